-- Failures are counted apart from attempts: a task is parked after
-- `leases.max_failures` failed attempts (errors reported by workers, leases
-- that expired), while a proof rejected by the checks counts against the
-- worker that sent it, not against the task.
ALTER TABLE tasks ADD COLUMN failures BIGINT NOT NULL DEFAULT 0;
