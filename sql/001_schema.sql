-- 001: the area tree, scores, what protect releases, and runs.
--
-- Runs with search_path = <schema>, public: tables are named without a schema
-- so one database can hold several pc6risk schemas (tests use that).

CREATE EXTENSION IF NOT EXISTS postgis SCHEMA public;

-- The area tree: pc6 ⊂ buurt ⊂ wijk ⊂ gemeente, geometry in RD New (EPSG:28992).
CREATE TABLE gemeente (
    code text PRIMARY KEY CHECK (code ~ '^GM[0-9]{4}$'),
    name text NOT NULL,
    geom geometry(MultiPolygon, 28992) NOT NULL
);

CREATE TABLE wijk (
    code text PRIMARY KEY CHECK (code ~ '^WK[0-9]{6}$'),
    name text NOT NULL,
    gemeente_code text NOT NULL REFERENCES gemeente,
    geom geometry(MultiPolygon, 28992) NOT NULL
);
CREATE INDEX wijk_gemeente_idx ON wijk (gemeente_code);

CREATE TABLE buurt (
    code text PRIMARY KEY CHECK (code ~ '^BU[0-9]{8}$'),
    name text NOT NULL,
    wijk_code text NOT NULL REFERENCES wijk,
    geom geometry(MultiPolygon, 28992) NOT NULL
);
CREATE INDEX buurt_wijk_idx ON buurt (wijk_code);
CREATE INDEX buurt_geom_idx ON buurt USING gist (geom);

CREATE TABLE pc6 (
    code text PRIMARY KEY
        CHECK (code ~ '^[1-9][0-9]{3}[A-Z]{2}$' AND substr(code, 5, 2) NOT IN ('SA', 'SD', 'SS')),
    buurt_code text NOT NULL REFERENCES buurt,
    -- share of the PC6's area inside its buurt (1 when it nests cleanly)
    buurt_share double precision NOT NULL DEFAULT 1,
    geom geometry(MultiPolygon, 28992) NOT NULL
);
CREATE INDEX pc6_buurt_idx ON pc6 (buurt_code);
CREATE INDEX pc6_geom_idx ON pc6 USING gist (geom);

-- Raw scores per scenario. Internal: never read by publish.
CREATE TABLE score (
    scenario text NOT NULL,
    level text NOT NULL CHECK (level IN ('gemeente', 'wijk', 'buurt', 'pc6')),
    code text NOT NULL,
    numerator double precision,
    denominator double precision,
    value double precision,
    reason text, -- why value is NULL
    PRIMARY KEY (scenario, level, code),
    CHECK ((value IS NULL) = (reason IS NOT NULL))
);

-- What protect releases: the only tables publish reads (DESIGN.md invariant 1).
-- protected_area holds every area that may appear on a map, with the codes of
-- its parents; protected_value the value per scenario, or why there is none.
CREATE TABLE protected_area (
    level text NOT NULL CHECK (level IN ('gemeente', 'wijk', 'buurt', 'pc6')),
    code text NOT NULL,
    name text,
    buurt_code text,
    wijk_code text,
    gemeente_code text,
    geom geometry(MultiPolygon, 28992) NOT NULL,
    PRIMARY KEY (level, code)
);

CREATE TABLE protected_value (
    scenario text NOT NULL,
    level text NOT NULL,
    code text NOT NULL,
    status text NOT NULL CHECK (status IN ('published', 'suppressed')),
    reason text,
    score double precision,
    rank integer,
    ranked integer, -- how many units were ranked alongside
    PRIMARY KEY (scenario, level, code),
    FOREIGN KEY (level, code) REFERENCES protected_area ON DELETE CASCADE,
    CHECK ((status = 'published') = (score IS NOT NULL AND rank IS NOT NULL)),
    CHECK ((status = 'suppressed') = (reason IS NOT NULL))
);

-- One row per command that changes state (load, score, protect, publish,
-- refresh). Times and counts live here, never inside published data files.
CREATE TABLE run (
    id bigserial PRIMARY KEY,
    command text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
    counts jsonb NOT NULL DEFAULT '{}',
    release text,
    error_class text,
    error_where text,
    error_sqlstate text,
    error_message text,
    error_detail text,
    CHECK ((status = 'failed') = (error_message IS NOT NULL))
);
