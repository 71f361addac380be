-- Quality summary refresh: drop the temporary scope and statistics.
DROP TABLE IF EXISTS quality_refresh_pairs;
DROP TABLE IF EXISTS quality_refresh_stats;
DROP TABLE IF EXISTS quality_stable_pairs;
DROP TABLE IF EXISTS quality_restated_values;
DROP TABLE IF EXISTS quality_refresh_values;
DROP TABLE IF EXISTS quality_new_key_pairs;
DROP TABLE IF EXISTS quality_refresh_centre;
DROP TABLE IF EXISTS quality_refresh_spread;
