-- The dashboard: short login sessions (an HttpOnly cookie holds the token; only its hash is kept)
-- and the per-minute figures it charts that no other table records over time.
CREATE TABLE dashboard_sessions (
  -- SHA-256 of the session token.
  id_hash TEXT PRIMARY KEY,
  scope TEXT NOT NULL CHECK (scope IN ('admin', 'tenant')),
  tenant_id TEXT,
  -- The hash of the API key the session was opened with: revoking the key ends the session.
  key_hash TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX dashboard_sessions_by_expiry ON dashboard_sessions(expires_at);

-- One value per scope ('platform' or a tenant id), minute and series name: the last reading of
-- that minute (gauges and cumulative counters alike; rates are derived when read).
CREATE TABLE dashboard_samples (
  scope TEXT NOT NULL,
  minute INTEGER NOT NULL,
  series TEXT NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY (scope, minute, series)
);
CREATE INDEX dashboard_samples_by_minute ON dashboard_samples(minute);
