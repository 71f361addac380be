-- Reference data and pilots, as loaded from registry YAML files.
-- Grain: one row per code (subsidiary, site, metric, pilot); pilot children one row per pair.
-- No foreign keys: DuckDB restricts updates of referenced rows, and the registry loader
-- validates references whole before it writes (audits/ re-check them).

CREATE TABLE subsidiaries (
    code        VARCHAR PRIMARY KEY,
    name_ru     VARCHAR NOT NULL,
    name_kk     VARCHAR NOT NULL,
    name_en     VARCHAR NOT NULL,
    sector      VARCHAR,
    updated_at  TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE sites (
    code             VARCHAR PRIMARY KEY,
    subsidiary_code  VARCHAR NOT NULL,
    name_ru          VARCHAR NOT NULL,
    name_kk          VARCHAR NOT NULL,
    name_en          VARCHAR NOT NULL,
    region           VARCHAR,
    updated_at       TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE metrics (
    code                VARCHAR PRIMARY KEY,
    name_ru             VARCHAR NOT NULL,
    name_kk             VARCHAR NOT NULL,
    name_en             VARCHAR NOT NULL,
    unit                VARCHAR NOT NULL,
    frequency           VARCHAR NOT NULL CHECK (frequency IN ('daily', 'weekly', 'monthly', 'quarterly', 'yearly')),
    aggregation         VARCHAR NOT NULL CHECK (aggregation IN ('sum', 'mean')),
    higher_is_better    BOOLEAN NOT NULL,
    value_kzt_per_unit  DOUBLE NOT NULL,
    min_value           DOUBLE,
    max_value           DOUBLE,
    updated_at          TIMESTAMP NOT NULL DEFAULT current_timestamp
);

CREATE TABLE pilot_registry (
    code               VARCHAR PRIMARY KEY,
    name_ru            VARCHAR NOT NULL,
    name_kk            VARCHAR NOT NULL,
    name_en            VARCHAR NOT NULL,
    subsidiary_code    VARCHAR NOT NULL,
    use_case           VARCHAR NOT NULL,
    capex_kzt          DOUBLE NOT NULL CHECK (capex_kzt >= 0),
    opex_kzt_per_year  DOUBLE NOT NULL CHECK (opex_kzt_per_year >= 0),
    updated_at         TIMESTAMP NOT NULL DEFAULT current_timestamp
);

-- Treated sites of a pilot, each with its own go-live (staggered adoption).
CREATE TABLE pilot_treated_sites (
    pilot_code  VARCHAR NOT NULL,
    site_code   VARCHAR NOT NULL,
    go_live     DATE NOT NULL,
    PRIMARY KEY (pilot_code, site_code)
);

-- Control sites named explicitly; when a pilot has none, controls default to its subsidiary's never-treated sites.
CREATE TABLE pilot_control_sites (
    pilot_code  VARCHAR NOT NULL,
    site_code   VARCHAR NOT NULL,
    PRIMARY KEY (pilot_code, site_code)
);

CREATE TABLE pilot_metrics (
    pilot_code   VARCHAR NOT NULL,
    metric_code  VARCHAR NOT NULL,
    PRIMARY KEY (pilot_code, metric_code)
);

-- Key-value facts about the warehouse itself (e.g. demo = true, data_start).
CREATE TABLE warehouse_info (
    key    VARCHAR PRIMARY KEY,
    value  VARCHAR NOT NULL
);
