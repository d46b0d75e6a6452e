-- 005: the run ledger as the daemon needs it (README "Daemon").
--
-- skipped: a refresh that found inputs and config as the last good refresh
-- left them, and published nothing new. backend_pid: the session that runs
-- it, so a run whose session is gone (database restart, kill -9) can be told
-- from one still going and closed as failed. host: machine and process.
-- trigger: what started it (command, schedule, signal, retry, start).
-- input_fingerprint, config_hash, inputs: what went in, per file.
ALTER TABLE run DROP CONSTRAINT run_status_check;
ALTER TABLE run ADD CONSTRAINT run_status_check
    CHECK (status IN ('running', 'succeeded', 'failed', 'skipped'));
ALTER TABLE run
    ADD COLUMN backend_pid integer DEFAULT pg_backend_pid(),
    ADD COLUMN host text,
    ADD COLUMN trigger text,
    ADD COLUMN input_fingerprint text,
    ADD COLUMN config_hash text,
    ADD COLUMN inputs jsonb;
CREATE INDEX run_good_refresh ON run (id) WHERE command = 'refresh' AND status IN ('succeeded', 'skipped');
