-- Estimates: a run's result rows from the staged frame `staged_results` (columns named as the table).
INSERT INTO estimate_results BY NAME
SELECT * FROM staged_results
