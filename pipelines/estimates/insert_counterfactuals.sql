-- Estimates: a run's observed-vs-counterfactual rows from the staged frame `staged_counterfactuals`.
INSERT INTO estimate_counterfactuals BY NAME
SELECT * FROM staged_counterfactuals
