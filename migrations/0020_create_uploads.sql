-- tus resumable uploads (src/uploads/): one row per upload; the bytes are in R2 (RECORDINGS),
-- the upload's progress in its TusUpload Durable Object.
CREATE TABLE uploads (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  -- NULL while the client defers it (creation-defer-length).
  length INTEGER,
  filename TEXT,
  filetype TEXT,
  status TEXT NOT NULL CHECK (status IN ('uploading', 'complete', 'expired', 'terminated', 'failed')),
  r2_key TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  completed_at INTEGER
);
-- The per-tenant quotas count unfinished uploads.
CREATE INDEX uploads_unfinished ON uploads(tenant_id) WHERE status = 'uploading';
