-- Recordings and their processing pipeline (src/recordings/, docs/recordings.md). The source is a
-- finished tus upload in R2 (RECORDINGS); each stage runs as jobs on the jobs platform.
CREATE TABLE recordings (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  meeting_id TEXT NOT NULL,
  upload_id TEXT NOT NULL,
  title TEXT,
  -- The stage graph this recording follows (src/recordings/domain.ts GRAPHS).
  kind TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'processing', 'ready', 'failed')),
  source_key TEXT NOT NULL,
  source_bytes INTEGER NOT NULL,
  source_type TEXT,
  segment_bytes INTEGER NOT NULL,
  segments INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  finished_at INTEGER,
  -- POST is idempotent per (tenant, meeting).
  UNIQUE (tenant_id, meeting_id)
);
CREATE INDEX recordings_by_tenant ON recordings(tenant_id, id);
-- Intake: the oldest queued recording of a tenant starts when a place frees up.
CREATE INDEX recordings_queued ON recordings(tenant_id, created_at) WHERE status = 'queued';
CREATE INDEX recordings_finished ON recordings(finished_at) WHERE finished_at IS NOT NULL;

-- One row per stage of a recording; every status change is a compare-and-set on `version`.
CREATE TABLE recording_stages (
  recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
  stage TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
  -- 'segments' while per-segment jobs run, then 'merge' (one job); 'whole' for one-job stages.
  phase TEXT NOT NULL CHECK (phase IN ('whole', 'segments', 'merge')),
  segments INTEGER NOT NULL,
  segments_done INTEGER NOT NULL DEFAULT 0,
  job_ids TEXT NOT NULL DEFAULT '[]',
  error TEXT,
  version INTEGER NOT NULL DEFAULT 0,
  started_at INTEGER,
  completed_at INTEGER,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (recording_id, stage)
);

-- Finished units of work (a segment, a merge, a whole stage): a retried report counts once.
CREATE TABLE recording_units (
  recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
  stage TEXT NOT NULL,
  unit INTEGER NOT NULL,
  done_at INTEGER NOT NULL,
  PRIMARY KEY (recording_id, stage, unit)
);

CREATE TABLE recording_artifacts (
  recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  r2_key TEXT NOT NULL,
  size INTEGER NOT NULL,
  content_type TEXT NOT NULL,
  etag TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (recording_id, name)
);

-- What the SSE stream replays (stage completed, recording ready or failed), in order.
CREATE TABLE recording_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  recording_id TEXT NOT NULL REFERENCES recordings(id) ON DELETE CASCADE,
  type TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX recording_events_by_recording ON recording_events(recording_id, seq);
