-- Dashboard admin: registered metrics with their KZT values, names in $lang. Grain: one row per metric.
SELECT code AS metric_code,
       CASE $lang WHEN 'kk' THEN name_kk WHEN 'en' THEN name_en ELSE name_ru END AS metric_name,
       unit, frequency, aggregation, higher_is_better, value_kzt_per_unit, min_value, max_value
FROM metrics
ORDER BY code
