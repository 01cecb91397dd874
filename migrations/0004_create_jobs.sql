-- The jobs platform: jobs (state with an optimistic version), declared job types, dependency
-- edges, job logs, schedules, and dead-lettered queue messages kept for operators.
CREATE TABLE jobs (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  type TEXT NOT NULL,
  -- 'queue': run by the Worker from Cloudflare Queues; 'external': claimed through the pull API.
  runner TEXT NOT NULL CHECK (runner IN ('queue', 'external')),
  status TEXT NOT NULL CHECK (status IN ('scheduled', 'waiting', 'queued', 'processing', 'completed', 'failed', 'dead', 'cancelled')),
  priority TEXT NOT NULL CHECK (priority IN ('high', 'medium', 'low')),
  payload TEXT NOT NULL,
  result TEXT,
  error TEXT,
  progress REAL NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_retries INTEGER NOT NULL CHECK (max_retries >= 0),
  timeout_seconds INTEGER NOT NULL CHECK (timeout_seconds > 0),
  dedupe_key TEXT,
  -- When a runnable job (queued, scheduled, failed) may next be claimed.
  ready_at INTEGER NOT NULL,
  -- Dependencies not yet completed; the job waits while this is above zero.
  pending_deps INTEGER NOT NULL DEFAULT 0,
  has_dependents INTEGER NOT NULL DEFAULT 0,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  claimed_by TEXT,
  -- Visibility timeout: a processing job not heartbeated by then is taken back.
  claim_expires_at INTEGER,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  completed_at INTEGER,
  updated_at INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_runnable ON jobs(tenant_id, runner, priority, ready_at) WHERE status IN ('queued', 'scheduled', 'failed');
CREATE INDEX jobs_processing ON jobs(claim_expires_at) WHERE status = 'processing';
CREATE INDEX jobs_by_tenant ON jobs(tenant_id, created_at, id);
CREATE INDEX jobs_by_status ON jobs(tenant_id, status, created_at, id);
CREATE INDEX jobs_finished ON jobs(tenant_id, completed_at) WHERE completed_at IS NOT NULL;
-- A dedupe key names at most one live job per tenant.
CREATE UNIQUE INDEX jobs_dedupe ON jobs(tenant_id, dedupe_key) WHERE dedupe_key IS NOT NULL AND status NOT IN ('completed', 'dead', 'cancelled');

CREATE TABLE job_dependencies (
  job_id TEXT NOT NULL REFERENCES jobs(id),
  depends_on TEXT NOT NULL REFERENCES jobs(id),
  PRIMARY KEY (depends_on, job_id)
);

CREATE TABLE job_types (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  type TEXT NOT NULL,
  mode TEXT NOT NULL CHECK (mode IN ('builtin', 'external')),
  max_concurrency INTEGER CHECK (max_concurrency IS NULL OR max_concurrency > 0),
  rate_per_second REAL CHECK (rate_per_second IS NULL OR rate_per_second > 0),
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, type)
);

CREATE TABLE job_logs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL REFERENCES jobs(id),
  at INTEGER NOT NULL,
  level TEXT NOT NULL CHECK (level IN ('info', 'warn', 'error')),
  message TEXT NOT NULL
);
CREATE INDEX job_logs_by_job ON job_logs(job_id, id);

CREATE TABLE job_schedules (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  cron TEXT NOT NULL,
  timezone TEXT NOT NULL,
  job TEXT NOT NULL,
  paused INTEGER NOT NULL DEFAULT 0,
  next_run_at INTEGER,
  last_run_at INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX job_schedules_by_tenant ON job_schedules(tenant_id, created_at);

-- Queue messages that exhausted their queue-level retries (the dead-letter queue's consumer).
CREATE TABLE job_dead_letters (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  queue TEXT NOT NULL,
  body TEXT NOT NULL,
  received_at INTEGER NOT NULL
);
