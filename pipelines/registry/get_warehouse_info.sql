-- Warehouse facts: every key and value.
SELECT key, value FROM warehouse_info
