-- Registry: metrics as stored. Grain: one row per metric code.
SELECT code, name_ru, name_kk, name_en, unit, frequency, aggregation, higher_is_better,
       value_kzt_per_unit, min_value, max_value
FROM metrics
