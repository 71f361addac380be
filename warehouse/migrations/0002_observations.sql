-- Uploads and observations with full history.
-- Current values and superseded versions live in two tables so that the hot path (current values)
-- stays compact; uniqueness of (site, metric, period) among current values is enforced by the merge
-- pipeline and checked by pipelines/audits, not by an index (an index makes bulk loads ~4x slower).

CREATE SEQUENCE upload_id_seq START 1;

CREATE TABLE upload_log (
    upload_id       BIGINT PRIMARY KEY DEFAULT nextval('upload_id_seq'),
    file_name       VARCHAR NOT NULL,
    sha256          VARCHAR NOT NULL,
    size_bytes      BIGINT NOT NULL,
    uploaded_by     VARCHAR NOT NULL,
    uploaded_at     TIMESTAMP NOT NULL DEFAULT current_timestamp,
    status          VARCHAR NOT NULL CHECK (status IN ('loaded', 'unchanged', 'rejected', 'partial')),
    rows_read       BIGINT NOT NULL DEFAULT 0,
    rows_inserted   BIGINT NOT NULL DEFAULT 0,
    rows_updated    BIGINT NOT NULL DEFAULT 0,
    rows_unchanged  BIGINT NOT NULL DEFAULT 0,
    rows_rejected   BIGINT NOT NULL DEFAULT 0,
    source_format   VARCHAR,
    notes           VARCHAR
);

-- Every problem found in an upload, one row each (line is the file's own 1-based line number).
CREATE TABLE upload_errors (
    upload_id    BIGINT NOT NULL,
    sheet        VARCHAR,
    line         BIGINT,
    column_name  VARCHAR,
    value        VARCHAR,
    code         VARCHAR NOT NULL,
    message      VARCHAR NOT NULL
);

-- Grain: one row per (site_code, metric_code, period): the value in force now.
CREATE TABLE observation_current (
    site_code    VARCHAR NOT NULL,
    metric_code  VARCHAR NOT NULL,
    period       DATE NOT NULL,
    value        DOUBLE NOT NULL,
    upload_id    BIGINT NOT NULL,
    valid_from   TIMESTAMP NOT NULL
);

-- Grain: one row per replaced version of a (site_code, metric_code, period) value.
CREATE TABLE observation_superseded (
    site_code    VARCHAR NOT NULL,
    metric_code  VARCHAR NOT NULL,
    period       DATE NOT NULL,
    value        DOUBLE NOT NULL,
    upload_id    BIGINT NOT NULL,
    valid_from   TIMESTAMP NOT NULL,
    valid_to     TIMESTAMP NOT NULL,
    superseded_by_upload_id BIGINT NOT NULL
);
