-- URL shortener (docs/shortener.md). Slugs are unique across the platform: the public redirect is
-- /s/{slug}, one key, one indexed read. A deleted link keeps its row (deleted_at) so its slug
-- answers 410 and can never be re-pointed at another destination.
CREATE TABLE links (
  slug TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  url TEXT NOT NULL,
  permanent INTEGER NOT NULL DEFAULT 0 CHECK (permanent IN (0, 1)),
  expires_at INTEGER,
  max_clicks INTEGER,
  clicks INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  deleted_at INTEGER
);
CREATE INDEX links_by_tenant ON links(tenant_id, created_at, slug);

-- Clicks per link and UTC day, written in batches off the redirect's critical path.
CREATE TABLE link_clicks_daily (
  slug TEXT NOT NULL REFERENCES links(slug),
  day TEXT NOT NULL,
  clicks INTEGER NOT NULL,
  PRIMARY KEY (slug, day)
);
