-- Services run in runner processes: a deployment may crash (too often to restart), and says how it asks to be run.
ALTER TABLE deployments ADD COLUMN crashed_at TEXT;
ALTER TABLE deployments ADD COLUMN crash_causes TEXT;
ALTER TABLE deployments ADD COLUMN run_settings TEXT;
-- "/" was the readiness default (any HTTP answer); a TCP connect is the default probe now
UPDATE deployments SET readiness_path = NULL WHERE readiness_path = '/';
