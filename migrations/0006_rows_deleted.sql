-- Deletes (DESIGN.md "Schedules and deletes"): target rows or documents a run removed, by soft
-- deletes (source.deleted_flag) and by target.delete_missing at the end of a full run.
ALTER TABLE etl.pipeline_runs ADD COLUMN rows_deleted bigint NOT NULL DEFAULT 0;
