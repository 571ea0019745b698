-- Batches sized by time: a pipeline without batch_size stores NULL (shown as "auto"), and each
-- run keeps the size of its next batch and how many batches of each size it ran.
ALTER TABLE etl.pipelines ALTER COLUMN batch_size DROP NOT NULL;
ALTER TABLE etl.pipeline_runs ADD COLUMN next_batch_size integer CHECK (next_batch_size > 0);
ALTER TABLE etl.pipeline_runs ADD COLUMN batch_sizes jsonb NOT NULL DEFAULT '{}'::jsonb;
