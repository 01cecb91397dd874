-- Webhooks (docs/webhooks.md) on the delivery engine (src/delivery/). Every row is a tenant's;
-- everything but endpoints expires after WEBHOOK_RETENTION_DAYS (src/webhooks/retention.ts).
CREATE TABLE webhook_endpoints (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  url TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  -- JSON array of exact types or prefix wildcards ("job.*"); '[]' = every event.
  event_types TEXT NOT NULL DEFAULT '[]',
  rate_limit INTEGER,
  ordering_key TEXT,
  -- whsec_ secrets sealed under SIGNING_SECRETS_KEY; the previous one signs until previous_expires_at.
  sealed_secret TEXT NOT NULL,
  sealed_previous_secret TEXT,
  previous_expires_at INTEGER,
  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  disabled_reason TEXT,
  -- First failed attempt since the last success: 5 days of that disables the endpoint.
  failing_since INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX webhook_endpoints_by_tenant ON webhook_endpoints(tenant_id, created_at, id);

CREATE TABLE webhook_events (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  type TEXT NOT NULL,
  idempotency_key TEXT,
  payload_parts INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX webhook_events_idempotency ON webhook_events(tenant_id, idempotency_key);
CREATE INDEX webhook_events_by_age ON webhook_events(created_at);

-- A payload in parts: D1 statements stay under 100 KB while payloads reach 256 KB.
CREATE TABLE webhook_event_parts (
  event_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  part TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (event_id, seq)
);
CREATE INDEX webhook_event_parts_by_age ON webhook_event_parts(created_at);

-- One delivery of one event to one endpoint. origin_key (event:endpoint) makes the fan-out
-- idempotent; replays are new rows with origin_key NULL.
CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  origin_key TEXT UNIQUE,
  lane_key TEXT,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivering', 'succeeded', 'failed', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  lease_until INTEGER,
  next_attempt_at INTEGER,
  last_status_code INTEGER,
  dead_reason TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_by_event ON webhook_deliveries(event_id, endpoint_id, created_at);
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries(endpoint_id, status, created_at);
CREATE INDEX webhook_deliveries_by_age ON webhook_deliveries(created_at);

CREATE TABLE webhook_attempts (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  endpoint_id TEXT NOT NULL,
  delivery_id TEXT NOT NULL,
  event_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  status_code INTEGER,
  latency_ms INTEGER NOT NULL,
  response_excerpt TEXT,
  error TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts(endpoint_id, created_at, id);
CREATE INDEX webhook_attempts_by_age ON webhook_attempts(created_at);
