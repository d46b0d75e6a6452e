-- What the map viewer shows of a published area's domains: each domain's
-- percentile (0-100, higher = more risk) among the published, ranked areas of
-- the same level and reference area. Written by protect, for wijk and buurt
-- values that are published with a rank; a percentile, not the domain score,
-- so that it says no more than the published ranks already do about the
-- order of areas.
CREATE TABLE protected_domain (
    scenario text NOT NULL,
    level text NOT NULL,
    code text NOT NULL,
    position integer NOT NULL, -- the domain's score_part position
    domain text NOT NULL,
    percentile smallint NOT NULL CHECK (percentile BETWEEN 0 AND 100),
    PRIMARY KEY (scenario, level, code, position),
    FOREIGN KEY (scenario, level, code) REFERENCES protected_value ON DELETE CASCADE
);
