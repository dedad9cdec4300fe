-- Services, their deployments (one row each, updated on every transition) and deployment log lines.
CREATE TABLE services (
  name       TEXT PRIMARY KEY,
  created_at TEXT NOT NULL,
  deleted_at TEXT
);

CREATE TABLE deployments (
  id              TEXT PRIMARY KEY,
  service         TEXT NOT NULL REFERENCES services (name),
  state           TEXT NOT NULL,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  queued_at       TEXT,
  built_at        TEXT,
  loaded_at       TEXT,
  deployed_at     TEXT,
  stopped_at      TEXT,
  error_at        TEXT,
  deleted_at      TEXT,
  reactivated_at  TEXT,
  error_stage     TEXT,
  error           TEXT,
  artifact_path   TEXT,
  artifact_sha256 TEXT,
  entry           TEXT,
  dependencies    TEXT,
  source_hash     TEXT,
  readiness_path  TEXT,
  port            INTEGER,
  url             TEXT
);
CREATE INDEX deployments_by_service ON deployments (service, id);
CREATE INDEX deployments_by_state ON deployments (state);
CREATE INDEX deployments_by_source ON deployments (source_hash);

CREATE TABLE log_lines (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  deployment TEXT NOT NULL,
  ts         TEXT NOT NULL,
  level      TEXT NOT NULL,
  stage      TEXT,
  message    TEXT NOT NULL
);
CREATE INDEX log_lines_by_deployment ON log_lines (deployment, seq);
