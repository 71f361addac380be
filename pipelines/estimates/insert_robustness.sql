-- Estimates: a run's robustness rows (every applicable method) from the staged frame `staged_robustness`.
INSERT INTO estimate_robustness BY NAME
SELECT * FROM staged_robustness
