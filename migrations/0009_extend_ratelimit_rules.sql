-- Rate-limit service rules may use the sliding window log and the leaky bucket (issue 18); a leaky
-- bucket's rule carries the longest a request may be delayed. SQLite cannot change a CHECK
-- constraint in place, so the table is rebuilt with its rows (nothing references it).
CREATE TABLE ratelimit_rules_new (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  resource TEXT NOT NULL,
  algorithm TEXT NOT NULL CHECK (algorithm IN ('token_bucket', 'sliding_window', 'fixed_window', 'sliding_window_log', 'leaky_bucket')),
  "limit" INTEGER NOT NULL CHECK ("limit" > 0),
  window_seconds INTEGER NOT NULL CHECK (window_seconds > 0),
  burst INTEGER CHECK (burst IS NULL OR burst > 0),
  on_failure TEXT NOT NULL DEFAULT 'open' CHECK (on_failure IN ('open', 'closed')),
  updated_at INTEGER NOT NULL,
  -- leaky_bucket only: the longest a check may be told to wait (delay_ms) before it is refused.
  max_delay_ms INTEGER CHECK (max_delay_ms IS NULL OR max_delay_ms >= 0),
  PRIMARY KEY (tenant_id, resource)
);
INSERT INTO ratelimit_rules_new (tenant_id, resource, algorithm, "limit", window_seconds, burst, on_failure, updated_at)
  SELECT tenant_id, resource, algorithm, "limit", window_seconds, burst, on_failure, updated_at FROM ratelimit_rules;
DROP TABLE ratelimit_rules;
ALTER TABLE ratelimit_rules_new RENAME TO ratelimit_rules;
