-- Metrics collection (issue 16, part 3): series (for the per-tenant cardinality cap and label
-- matching), raw samples, 1-minute and 1-hour rollups, alert rules with their state, dead letters.

CREATE TABLE metric_series (
  tenant_id TEXT NOT NULL,
  -- SHA-256 (hex, 32 chars) of the canonical name{labels} text.
  series_id TEXT NOT NULL,
  name TEXT NOT NULL,
  labels TEXT NOT NULL,
  type TEXT NOT NULL CHECK (type IN ('counter', 'gauge', 'histogram')),
  created_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, series_id)
);
CREATE INDEX metric_series_by_name ON metric_series (tenant_id, name);

-- Raw samples, keyed by the producer's message id and the sample's index in it (idempotent writes).
-- `rolled` is 0 only inside the transaction that inserts a message's samples and rolls them up.
CREATE TABLE metric_samples (
  message_id TEXT NOT NULL,
  sample_index INTEGER NOT NULL,
  tenant_id TEXT NOT NULL,
  series_id TEXT NOT NULL,
  ts INTEGER NOT NULL,
  value REAL NOT NULL,
  buckets TEXT,
  rolled INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (message_id, sample_index)
);
CREATE INDEX metric_samples_by_series ON metric_samples (tenant_id, series_id, ts);
CREATE INDEX metric_samples_by_ts ON metric_samples (ts);

-- Rollups: resolution_ms 60000 (1 minute) or 3600000 (1 hour); histogram buckets merged by `le`.
CREATE TABLE metric_rollups (
  tenant_id TEXT NOT NULL,
  series_id TEXT NOT NULL,
  resolution_ms INTEGER NOT NULL CHECK (resolution_ms IN (60000, 3600000)),
  bucket_start INTEGER NOT NULL,
  min REAL NOT NULL,
  max REAL NOT NULL,
  sum REAL NOT NULL,
  count INTEGER NOT NULL,
  last REAL NOT NULL,
  last_ts INTEGER NOT NULL,
  buckets TEXT,
  PRIMARY KEY (tenant_id, series_id, resolution_ms, bucket_start)
);
CREATE INDEX metric_rollups_by_age ON metric_rollups (resolution_ms, bucket_start);

CREATE TABLE metric_alert_rules (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  name TEXT NOT NULL,
  expr TEXT NOT NULL,
  op TEXT NOT NULL,
  threshold REAL NOT NULL,
  for_seconds INTEGER NOT NULL,
  labels TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('inactive', 'pending', 'firing', 'resolved')),
  active_since INTEGER,
  fired_at INTEGER,
  resolved_at INTEGER,
  last_value REAL,
  last_evaluated_at INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX metric_alert_rules_by_tenant ON metric_alert_rules (tenant_id, id);
CREATE INDEX metric_alert_rules_by_evaluation ON metric_alert_rules (last_evaluated_at);

CREATE TABLE metric_dead_letters (
  id TEXT PRIMARY KEY,
  queue TEXT NOT NULL,
  message_id TEXT NOT NULL,
  body TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX metric_dead_letters_by_age ON metric_dead_letters (created_at);
