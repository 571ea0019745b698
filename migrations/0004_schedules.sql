-- Schedules (DESIGN.md "Schedules and deletes"): the expression as given (EventBridge syntax, UTC),
-- when it is next due, and what its last tick did. The local stack's scheduler claims a due tick by
-- moving next_run_at with a conditional UPDATE, so two stacks on one database never both start it;
-- next_run_at lives here, not in memory, so a restart neither loses nor replays ticks.
ALTER TABLE etl.pipelines
  ADD COLUMN schedule          text CHECK (schedule IS NULL OR schedule ~ '^(rate|cron)\(.*\)$'),
  ADD COLUMN next_run_at       timestamptz,
  ADD COLUMN last_tick_at      timestamptz,
  ADD COLUMN last_tick_outcome text CHECK (last_tick_outcome IN ('started', 'skipped_active', 'failed')),
  ADD COLUMN last_tick_run_id  uuid,
  ADD COLUMN last_tick_message text,
  ADD CONSTRAINT pipelines_next_run_needs_schedule CHECK (next_run_at IS NULL OR schedule IS NOT NULL);

CREATE INDEX pipelines_due ON etl.pipelines (next_run_at) WHERE next_run_at IS NOT NULL;
