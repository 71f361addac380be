-- What a freshly built demo warehouse holds, for the build summary. Grain: one row.
SELECT
    (SELECT count(*) FROM subsidiaries) AS subsidiaries,
    (SELECT count(*) FROM sites) AS sites,
    (SELECT count(*) FROM metrics) AS metrics,
    (SELECT count(*) FROM pilot_registry) AS pilots,
    (SELECT count(*) FROM observation_current) AS observations,
    (SELECT count(*) FROM upload_log WHERE status = 'loaded') AS uploads,
    (SELECT count(*) FROM demo_truths) AS truths
