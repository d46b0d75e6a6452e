-- 004: what protect decides about groups and counts (docs/disclosure.md).
-- Like every protected_* table, these are the only ones publish reads.

-- Each area on the map with the group (PC6) or unit (buurt) it is published in.
ALTER TABLE protected_area
    ADD COLUMN group_code text,  -- pc6: its group, "G" + the group's smallest PC6
    ADD COLUMN unit_code text;   -- pc6 and buurt: the buurt unit, buurt codes joined by '+'

-- The PC6 groups: every PC6 is in exactly one, inside one buurt. meets: the
-- group meets the size rules (else its buurt is too small: the map shows the
-- buurt unit's value there).
CREATE TABLE protected_group (
    code text PRIMARY KEY,
    buurt_code text NOT NULL,
    wijk_code text NOT NULL,
    gemeente_code text NOT NULL,
    unit_code text NOT NULL,
    members text[] NOT NULL,
    meets boolean NOT NULL
);

-- Every count of every region: published (rounded to base) or suppressed with
-- the reason. level: group, buurt (a buurt unit), wijk, gemeente.
CREATE TABLE protected_figure (
    level text NOT NULL CHECK (level IN ('group', 'buurt', 'wijk', 'gemeente')),
    region text NOT NULL,
    variable text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('person', 'dwelling', 'income')),
    status text NOT NULL CHECK (status IN ('published', 'suppressed')),
    value double precision,
    base integer NOT NULL,
    reason text, -- one row per (level, region, variable): protect writes each once
    CHECK ((status = 'published') = (value IS NOT NULL AND reason IS NULL))
);

-- Each group's score per scenario: a band 1..bands within its reference area
-- (1 = least risk), and the exact score only where the policy allows it.
CREATE TABLE protected_group_value (
    scenario text NOT NULL,
    group_code text NOT NULL, -- a protected_group (no foreign key: protect writes both at once)
    band integer,
    bands integer NOT NULL,
    score double precision,
    PRIMARY KEY (scenario, group_code)
);

-- The policy the protected tables were made under, as JSON (docs/disclosure.md).
CREATE TABLE protected_policy (
    id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    policy jsonb NOT NULL
);

-- A buurt below the size rules on its own shows a coarser level's score
-- (shown_from = 'wijk'), unranked: a score mixing it with a neighbour whose
-- own score is published would give its score away.
ALTER TABLE protected_value
    ADD COLUMN shown_from text CHECK (shown_from IN ('wijk')),
    DROP CONSTRAINT protected_value_check,
    ADD CONSTRAINT protected_value_published_check
        CHECK ((status = 'published') = (score IS NOT NULL AND (rank IS NOT NULL OR shown_from IS NOT NULL)));
