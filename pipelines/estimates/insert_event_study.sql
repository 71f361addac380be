-- Estimates: a run's event-study rows from the staged frame `staged_event_study`.
INSERT INTO estimate_event_study BY NAME
SELECT * FROM staged_event_study
