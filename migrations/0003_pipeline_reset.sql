-- A reset (POST /pipelines/{id}/reset, or a PATCH of mode, source, target or tasks) makes the next
-- run read from the beginning: runs requested before it hand no cursor to their successors.
ALTER TABLE etl.pipelines ADD COLUMN reset_at timestamptz;
