-- Empty demo_truths before the demo build writes the truths of its seed. Grain: none (whole table).
DELETE FROM demo_truths
