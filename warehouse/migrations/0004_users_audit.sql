-- Accounts and the append-only audit log.

CREATE TABLE users (
    username         VARCHAR PRIMARY KEY,
    password_hash    VARCHAR NOT NULL,
    role             VARCHAR NOT NULL CHECK (role IN ('executive', 'engineer', 'reviewer', 'admin')),
    subsidiary_code  VARCHAR,
    language         VARCHAR NOT NULL DEFAULT 'ru',
    disabled         BOOLEAN NOT NULL DEFAULT false,
    failed_attempts  INTEGER NOT NULL DEFAULT 0,
    locked_until     TIMESTAMP,
    created_at       TIMESTAMP NOT NULL DEFAULT current_timestamp,
    updated_at       TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE SEQUENCE audit_id_seq START 1;

-- Grain: one row per action. Never updated or deleted by the application.
CREATE TABLE audit_log (
    event_id     BIGINT PRIMARY KEY DEFAULT nextval('audit_id_seq'),
    occurred_at  TIMESTAMP NOT NULL DEFAULT current_timestamp,
    username     VARCHAR NOT NULL,
    action       VARCHAR NOT NULL,   -- sign_in, sign_in_failed, upload, restatement, registry_load, ...
    target       VARCHAR,
    details      JSON,
    remote_addr  VARCHAR
);
