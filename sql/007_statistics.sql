-- 007: no planner statistics for columns no query filters or joins on.
--
-- ANALYZE samples every column; for these wide arrays and line numbers the
-- samples cost most of the time ANALYZE takes after a load or a score, and no
-- plan uses them (queries find figures by level and code, scores by scenario,
-- level and code, rates by level and code).
ALTER TABLE figure
    ALTER COLUMN vals SET STATISTICS 0,
    ALTER COLUMN missing SET STATISTICS 0,
    ALTER COLUMN line SET STATISTICS 0;
ALTER TABLE score ALTER COLUMN domains SET STATISTICS 0;
ALTER TABLE rate
    ALTER COLUMN raw SET STATISTICS 0,
    ALTER COLUMN shrunk SET STATISTICS 0,
    ALTER COLUMN weight SET STATISTICS 0,
    ALTER COLUMN sd SET STATISTICS 0;
