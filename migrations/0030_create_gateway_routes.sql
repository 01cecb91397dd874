-- API gateway for a tenant's own upstreams (docs/apigw.md). One row per named route; its
-- configuration (upstreams, limits, cache, health) is one validated JSON document, re-parsed on
-- read. Traffic at /gw/{tenant_id}/{path} matches the longest path_prefix of that tenant.
CREATE TABLE gateway_routes (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  name TEXT NOT NULL,
  path_prefix TEXT NOT NULL,
  config TEXT NOT NULL,
  version INTEGER NOT NULL DEFAULT 1,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, name)
);
CREATE UNIQUE INDEX gateway_routes_by_prefix ON gateway_routes(tenant_id, path_prefix);

-- The last active health check of each upstream of a route (the "* * * * *" cron).
CREATE TABLE gateway_upstream_health (
  tenant_id TEXT NOT NULL,
  route_name TEXT NOT NULL,
  upstream_url TEXT NOT NULL,
  healthy INTEGER NOT NULL CHECK (healthy IN (0, 1)),
  status INTEGER,
  latency_ms INTEGER,
  error TEXT,
  checked_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, route_name, upstream_url)
);
CREATE INDEX gateway_upstream_health_by_time ON gateway_upstream_health(checked_at);
