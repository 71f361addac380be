-- Registry: create or update one metric.
INSERT OR REPLACE INTO metrics (code, name_ru, name_kk, name_en, unit, frequency, aggregation, higher_is_better,
                                value_kzt_per_unit, min_value, max_value, updated_at)
VALUES ($code, $name_ru, $name_kk, $name_en, $unit, $frequency, $aggregation, $higher_is_better,
        $value_kzt_per_unit, $min_value, $max_value, current_timestamp)
