-- A rollback or a restart is a new deployment that activates an earlier one's stored artifact: which one.
ALTER TABLE deployments ADD COLUMN source_id TEXT;
-- No deployment is activated again under its own id any more: nothing to mark.
ALTER TABLE deployments DROP COLUMN reactivated_at;
