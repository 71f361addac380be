-- Is this warehouse a synthetic demo one (warehouse_info demo = 'true')? Grain: one row, one boolean.
SELECT coalesce(bool_or(key = 'demo' AND value = 'true'), false) AS is_demo
FROM warehouse_info
