-- Tenants, their API keys (stored as SHA-256 hashes only) and their rate-limit settings.
CREATE TABLE tenants (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  -- JSON array of gateway route limits overriding the platform defaults; NULL = defaults.
  route_limits TEXT,
  created_at INTEGER NOT NULL
);

CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  name TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  -- First characters of the key, safe to show in listings ("fg_ab12cd34…").
  prefix TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE INDEX api_keys_by_tenant ON api_keys(tenant_id, created_at);

-- Rules of the rate-limiting service tenants use for their own resources.
CREATE TABLE ratelimit_rules (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  resource TEXT NOT NULL,
  algorithm TEXT NOT NULL CHECK (algorithm IN ('token_bucket', 'sliding_window', 'fixed_window')),
  "limit" INTEGER NOT NULL CHECK ("limit" > 0),
  window_seconds INTEGER NOT NULL CHECK (window_seconds > 0),
  burst INTEGER CHECK (burst IS NULL OR burst > 0),
  on_failure TEXT NOT NULL DEFAULT 'open' CHECK (on_failure IN ('open', 'closed')),
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, resource)
);
