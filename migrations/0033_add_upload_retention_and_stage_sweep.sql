-- Issue 13, remaining gaps. (1) Retention of uploads that ended without a file: when each ended.
ALTER TABLE uploads ADD COLUMN finished_at INTEGER;
UPDATE uploads SET finished_at = COALESCE(completed_at, created_at) WHERE status <> 'uploading';
CREATE INDEX uploads_ended ON uploads(finished_at) WHERE status IN ('expired', 'terminated', 'failed');
-- (2) The sweeper of stuck recording stages: how often a stage's lost jobs were enqueued again,
-- and when the sweeper last looked at it (running stages are visited oldest-looked-at first).
ALTER TABLE recording_stages ADD COLUMN repairs INTEGER NOT NULL DEFAULT 0;
ALTER TABLE recording_stages ADD COLUMN swept_at INTEGER;
CREATE INDEX recording_stages_to_sweep ON recording_stages(COALESCE(swept_at, updated_at)) WHERE status = 'running';
-- (3) tus concatenation: 'partial' uploads, and 'final' ones whose content is their partials'
-- objects in order (concat_parts: JSON [{key, size, etag}]); a final has no object of its own.
ALTER TABLE uploads ADD COLUMN concat TEXT CHECK (concat IN ('partial', 'final'));
ALTER TABLE uploads ADD COLUMN concat_parts TEXT;
