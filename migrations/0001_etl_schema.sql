-- The platform's own state: pipelines, their task plans, runs and incremental checkpoints.
CREATE SCHEMA IF NOT EXISTS etl;

CREATE TABLE etl.pipelines (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9_.-]{1,100}$'),
  mode        text NOT NULL CHECK (mode IN ('full', 'incremental')),
  batch_size  integer NOT NULL CHECK (batch_size BETWEEN 1 AND 50000),
  source      jsonb NOT NULL,
  target      jsonb NOT NULL,
  status      text NOT NULL DEFAULT 'IDLE' CHECK (status IN
                ('IDLE', 'RUN_REQUESTED', 'RUNNING', 'PAUSE_REQUESTED', 'PAUSED', 'SUCCEEDED', 'FAILED')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Ordered steps of a tasks-based pipeline: one sql_reader, transforms, one writer.
CREATE TABLE etl.pipeline_tasks (
  pipeline_id uuid NOT NULL REFERENCES etl.pipelines (id) ON DELETE CASCADE,
  position    integer NOT NULL CHECK (position >= 0),
  kind        text NOT NULL CHECK (kind IN ('sql_reader', 'transform', 'map', 'writer')),
  name        text NOT NULL,
  config      jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (pipeline_id, position)
);

CREATE TABLE etl.pipeline_runs (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  pipeline_id     uuid NOT NULL REFERENCES etl.pipelines (id) ON DELETE CASCADE,
  status          text NOT NULL CHECK (status IN ('RUNNING', 'PAUSED', 'SUCCEEDED', 'FAILED')),
  mode            text NOT NULL CHECK (mode IN ('full', 'incremental')),
  -- The execution that owns the run: only it may claim, advance, pause, complete or fail it.
  execution_name  text,
  execution_arn   text,
  executions      integer NOT NULL DEFAULT 0,
  rows_read       bigint NOT NULL DEFAULT 0,
  rows_written    bigint NOT NULL DEFAULT 0,
  rows_dropped    bigint NOT NULL DEFAULT 0,
  batches         integer NOT NULL DEFAULT 0,
  retries         integer NOT NULL DEFAULT 0,
  -- The batch number last attempted: attempting it again is a retry (counted in retries).
  attempted_batch integer NOT NULL DEFAULT 0,
  -- Where the run resumes: the keyset position after the last committed batch.
  cursor          jsonb,
  -- Incremental runs read only up to this value (see docs/ARCHITECTURE.md, "late commits").
  horizon         text,
  error_name      text,
  error_message   text,
  resumed_from    uuid REFERENCES etl.pipeline_runs (id) ON DELETE SET NULL,
  requested_at    timestamptz NOT NULL DEFAULT now(),
  started_at      timestamptz,
  heartbeat_at    timestamptz,
  finished_at     timestamptz
);

-- At most one active run per pipeline, enforced by the database.
CREATE UNIQUE INDEX pipeline_runs_one_active
  ON etl.pipeline_runs (pipeline_id) WHERE status IN ('RUNNING', 'PAUSED');
CREATE INDEX pipeline_runs_by_pipeline ON etl.pipeline_runs (pipeline_id, requested_at DESC);

-- Incremental checkpoint: the (incremental_key, incremental_id_key) position of the last committed row.
CREATE TABLE etl.etl_state (
  pipeline_id uuid PRIMARY KEY REFERENCES etl.pipelines (id) ON DELETE CASCADE,
  last_value  text,
  last_id     text,
  run_id      uuid,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
