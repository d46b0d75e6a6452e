-- 002: what load writes besides the area tree: the figures, what each figure
-- is, how each PC6 got its buurt, content hashes for change detection, and the
-- fingerprint of the inputs of the last load.

-- One row per indicator read: what kind of figure it is and where it is kept.
-- `file` is the input file's place in inputs.indicators (from 1), `position`
-- the figure's place in that file's value arrays (from 1).
CREATE TABLE indicator_def (
    level text NOT NULL CHECK (level IN ('gemeente', 'wijk', 'buurt', 'pc6')),
    name text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('count', 'share', 'amount')),
    unit text,
    file smallint NOT NULL,
    position smallint NOT NULL,
    source_file text NOT NULL,
    source_column text NOT NULL,
    PRIMARY KEY (level, name),
    UNIQUE (file, position)
);

-- The figures of one area from one file, as arrays in indicator_def order: a
-- value, or NULL with the reason it is missing ('secret', 'unknown'). Stored
-- wide because a national load has millions of figures; read them long
-- through the view `indicator`.
CREATE TABLE figure (
    level text NOT NULL CHECK (level IN ('gemeente', 'wijk', 'buurt', 'pc6')),
    code text NOT NULL,
    file smallint NOT NULL,
    vals double precision[] NOT NULL,
    missing text[] NOT NULL,
    line integer NOT NULL,
    PRIMARY KEY (level, code, file),
    CHECK (cardinality(vals) = cardinality(missing))
);

-- One row per area and indicator: value, or why it is missing, and the
-- file:line it came from.
CREATE VIEW indicator AS
SELECT f.level, f.code, d.name, f.vals[d.position] AS value, f.missing[d.position] AS missing,
       d.source_file || ':' || f.line AS source
FROM figure f
JOIN indicator_def d ON d.level = f.level AND d.file = f.file;

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
-- settings that read them: a load whose fingerprint matches changes nothing.
CREATE TABLE load_input (
    path text NOT NULL,
    role text NOT NULL,
    bytes bigint NOT NULL,
    mtime bigint NOT NULL, -- nanoseconds since 1970
    sha256 text NOT NULL,
    PRIMARY KEY (path, role)
);

CREATE TABLE load_state (
    id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    fingerprint text NOT NULL,
    run_id bigint,
    loaded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
