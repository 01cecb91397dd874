-- Rate-limit decisions per tenant, limited key and minute (issue 14, the ratelimit_decisions
-- report). Isolates count decisions in memory and add their aggregated counts here at most every
-- few seconds (src/gateway/limiter/decisions.ts), so no request writes to D1. `resource` is
-- "gateway:<rule names>" for the gateway limiter and the service resource for /ratelimit/check;
-- `limit_key` is "<scope>:<value>" (gateway) or the caller's key (service). Kept
-- RATELIMIT_DECISIONS_RETENTION_DAYS (31) by the */5 retention sweep.
CREATE TABLE ratelimit_decisions (
  tenant_id TEXT NOT NULL,
  minute INTEGER NOT NULL,
  resource TEXT NOT NULL,
  limit_key TEXT NOT NULL,
  allowed INTEGER NOT NULL DEFAULT 0,
  rejected INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, minute, resource, limit_key)
);

CREATE INDEX ratelimit_decisions_by_minute ON ratelimit_decisions (minute);

-- A campaign sends over K parallel tick chains (EMAIL_SEND_CHAINS, issue 14): chain 0's token stays
-- in email_campaigns.chain; chains 1..K-1 keep theirs here, one row each, replaced whenever the
-- campaign (re)starts sending and removed when it stops. A tick whose token is not its chain's is
-- stale and does nothing. All chains claim from the same ledger under leases and share the
-- tenant's send bucket.
CREATE TABLE email_send_chains (
  campaign_id TEXT NOT NULL,
  shard INTEGER NOT NULL,
  token TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (campaign_id, shard)
);

CREATE INDEX email_send_chains_updated ON email_send_chains (updated_at);
