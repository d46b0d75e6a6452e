-- 002: what load knows about its inputs: indicator definitions, how each PC6
-- got its buurt, content hashes for change detection, and the fingerprint of
-- the inputs of the last load.

-- One row per indicator read: what kind of figure it is, from where.
CREATE TABLE indicator_def (
    level text NOT NULL CHECK (level IN ('gemeente', 'wijk', 'buurt', 'pc6')),
    name text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('count', 'share', 'amount')),
    unit text,
    source_file text NOT NULL,
    source_column text NOT NULL,
    PRIMARY KEY (level, name)
);

-- How a PC6 was placed in its buurt, and a hash of everything loaded about it
-- (polygon, buurt, figures) with the run in which that last changed.
ALTER TABLE pc6
    ADD COLUMN assigned_by text NOT NULL DEFAULT 'parent'
        CHECK (assigned_by IN ('parent', 'crosswalk', 'overlap')),
    ADD COLUMN content_hash text,
    ADD COLUMN changed_in_run bigint;

-- Every buurt a straddling PC6 reaches, with its share: of the PC6's area
-- (overlap) or of its addresses (crosswalk). PC6 that nest cleanly are absent.
CREATE TABLE pc6_overlap (
    pc6_code text NOT NULL REFERENCES pc6 ON DELETE CASCADE,
    buurt_code text NOT NULL,
    share double precision NOT NULL CHECK (share > 0 AND share <= 1),
    PRIMARY KEY (pc6_code, buurt_code)
);

-- The files behind the current data, and one fingerprint over them and the
-- config that read them: a load whose fingerprint matches changes nothing.
CREATE TABLE load_input (
    path text NOT NULL,
    role text NOT NULL,
    bytes bigint NOT NULL,
    sha256 text NOT NULL,
    PRIMARY KEY (path, role)
);

CREATE TABLE load_state (
    id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    fingerprint text NOT NULL,
    run_id bigint,
    loaded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
