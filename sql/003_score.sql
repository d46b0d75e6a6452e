-- 003: what score writes. One row per scenario and scored area, with the
-- parts it was made of, so a data team can see why a place scores high.

DROP TABLE score;

CREATE TABLE score (
    scenario text NOT NULL,
    level text NOT NULL CHECK (level IN ('gemeente', 'wijk', 'buurt', 'pc6')),
    code text NOT NULL,
    value double precision,          -- the score; NULL when there is none (see reason)
    rank integer,                    -- 1 = most at risk, within its reference area; NULL: not ranked
    ranked_of integer,               -- how many areas were ranked alongside
    percentile double precision,     -- 0-100 within the reference area, higher = more at risk
    flags smallint,                  -- combine "flags": domains at or above the flag percentile
    at_risk boolean,                 -- combine "flags": flags >= needed (areas above pc6: NULL)
    too_small boolean NOT NULL DEFAULT false, -- below the scenario's size: scored, not ranked
    size double precision,           -- privacy.count of the area (summed from its PC6 above pc6)
    volume double precision,         -- expected number affected, when the scenario counts it
    reference text NOT NULL,         -- the gemeente it is ranked within, or 'all'
    reason text,                     -- why value is NULL, or why the area is not ranked
    domains double precision[],      -- per domain, in score_part order
    PRIMARY KEY (scenario, level, code)
);

-- The domains and indicators of each scenario; domains in the order of
-- score.domains. An indicator's `rate` is its place in the rate arrays.
CREATE TABLE score_part (
    scenario text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('domain', 'indicator')),
    position smallint NOT NULL,
    name text NOT NULL,
    weight double precision,         -- domains: their weight
    level text,                      -- indicators: where the figure is read (coarser: inherited)
    domain text,                     -- indicators: the domain they count in
    rate smallint,                   -- indicators: position in rate.raw etc.
    PRIMARY KEY (scenario, kind, position)
);

-- Each figure or rate the scenarios use, per area of the level it is read at,
-- once however many scenarios use it: as read, after empirical-Bayes
-- shrinkage toward the buurt (then wijk), the shrinkage weight (1: kept as
-- read) and the posterior sd. rate_part names the positions.
CREATE TABLE rate (
    level text NOT NULL,
    code text NOT NULL,
    raw double precision[] NOT NULL,
    shrunk double precision[] NOT NULL,
    weight double precision[] NOT NULL,
    sd double precision[] NOT NULL,
    PRIMARY KEY (level, code)
);

CREATE TABLE rate_part (
    level text NOT NULL,
    position smallint NOT NULL,
    definition text NOT NULL,        -- "low_income_share of households", "a+b / c"
    shrunk boolean NOT NULL,
    PRIMARY KEY (level, position)
);

-- What compare finds: agreement of each pair of scenarios at a level ...
CREATE TABLE compare_pair (
    level text NOT NULL,
    a text NOT NULL,
    b text NOT NULL,
    areas integer NOT NULL,          -- areas scored by both
    spearman double precision,
    kendall double precision,
    jaccard_3 double precision,      -- overlap of the top 3, 5 and 10
    jaccard_5 double precision,
    jaccard_10 double precision,
    PRIMARY KEY (level, a, b)
);

-- ... and, per scenario and area, how sure its rank is (Monte Carlo over the
-- scenario's uncertain choices), whether it is in the robust top N (the top N
-- of all scenarios but at most one), and the domains that drive its score.
CREATE TABLE compare_area (
    scenario text NOT NULL,
    level text NOT NULL,
    code text NOT NULL,
    rank integer,
    median_rank double precision,
    rank_p05 double precision,
    rank_p95 double precision,
    p_top_3 double precision,
    p_top_5 double precision,
    p_top_10 double precision,
    robust_top_3 boolean NOT NULL DEFAULT false,
    robust_top_5 boolean NOT NULL DEFAULT false,
    robust_top_10 boolean NOT NULL DEFAULT false,
    drivers text,                    -- its two highest domains, "income, work"
    PRIMARY KEY (scenario, level, code)
);

CREATE TABLE compare_run (
    id integer PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    draws integer NOT NULL,
    seed bigint NOT NULL,
    seconds double precision NOT NULL
);

-- What protect releases of compare; publish reads these, never compare_*.
-- The agreement of the scenarios (statistics over many areas) ...
CREATE TABLE protected_agreement (LIKE compare_pair INCLUDING ALL);

-- ... and, per published area, how sure its rank is. The rank columns are
-- NULL where the published ranks are not those compare ranked (an area of the
-- same reference was hidden), so no hidden area shows through a rank gap.
CREATE TABLE protected_compare (
    scenario text NOT NULL,
    level text NOT NULL,
    code text NOT NULL,
    median_rank double precision,
    rank_p05 double precision,
    rank_p95 double precision,
    p_top_3 double precision,
    p_top_5 double precision,
    p_top_10 double precision,
    robust_top_3 boolean,
    robust_top_5 boolean,
    robust_top_10 boolean,
    drivers text,
    PRIMARY KEY (scenario, level, code),
    FOREIGN KEY (scenario, level, code) REFERENCES protected_value ON DELETE CASCADE
);

CREATE TABLE protected_compare_run (LIKE compare_run INCLUDING ALL);
