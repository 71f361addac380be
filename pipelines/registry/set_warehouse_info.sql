-- Warehouse facts (data_start, demo flag): create or update one key.
INSERT OR REPLACE INTO warehouse_info (key, value) VALUES ($key, $value)
