-- Analytics reports (issue 14): one row per report, one checkpoint row per chunk (a time slice),
-- and the partial aggregates each chunk produced, merged into the result once every chunk is done.
CREATE TABLE reports (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  -- The API key that asked (part of the derived id: a refresh by the same caller finds it again).
  api_key_id TEXT NOT NULL,
  type TEXT NOT NULL,
  -- Canonical JSON of the validated params.
  params TEXT NOT NULL,
  -- SHA-256 of (tenant, type, canonical params): a fresh result answers any caller of the tenant.
  cache_key TEXT NOT NULL,
  lane TEXT NOT NULL CHECK (lane IN ('short', 'long')),
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
  chunks_total INTEGER NOT NULL,
  chunks_done INTEGER NOT NULL DEFAULT 0,
  -- Incremented by every committed step; a queue message names the step it continues, so a
  -- redelivered or duplicated message finds it already taken and does nothing.
  step INTEGER NOT NULL DEFAULT 0,
  error TEXT,
  result_rows INTEGER,
  result_bytes INTEGER,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  -- When the result (R2 objects and these rows) is deleted by the retention sweep.
  expires_at INTEGER NOT NULL
);
CREATE INDEX reports_by_tenant ON reports(tenant_id, created_at, id);
CREATE INDEX reports_by_cache_key ON reports(tenant_id, cache_key, status, expires_at);
CREATE INDEX reports_by_expiry ON reports(expires_at);

CREATE TABLE report_chunks (
  report_id TEXT NOT NULL REFERENCES reports(id),
  chunk_index INTEGER NOT NULL,
  -- The slice [start_ms, end_ms) this chunk covers.
  start_ms INTEGER NOT NULL,
  end_ms INTEGER NOT NULL,
  done INTEGER NOT NULL DEFAULT 0,
  -- Where an unfinished chunk resumes (JSON, type-specific) and how many steps it has taken.
  cursor TEXT,
  steps INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (report_id, chunk_index)
);

CREATE TABLE report_partials (
  report_id TEXT NOT NULL REFERENCES reports(id),
  chunk_index INTEGER NOT NULL,
  group_key TEXT NOT NULL,
  -- JSON of the chunk's aggregate for this group (a truck, a machine, a job type).
  data TEXT NOT NULL,
  PRIMARY KEY (report_id, chunk_index, group_key)
);
