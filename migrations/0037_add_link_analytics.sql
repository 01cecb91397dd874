-- URL shortener, part two (docs/shortener.md): password-protected links, tags, click analytics.
-- The password is an Argon2id PHC string (the accounts feature's hashing), never the password.
ALTER TABLE links ADD COLUMN password_hash TEXT;
-- The link's tags as a JSON array (what the API answers); link_tags is derived from it in the same
-- transaction (json_each), so the list filter is one indexed range per tenant and tag.
ALTER TABLE links ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
CREATE TABLE link_tags (
  slug TEXT NOT NULL REFERENCES links(slug),
  tenant_id TEXT NOT NULL,
  tag TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (slug, tag)
);
CREATE INDEX link_tags_by_tenant ON link_tags(tenant_id, tag, created_at, slug);

-- Clicks per link, UTC day and one dimension (country, referrer host, device class), written by
-- queues/clicks.ts. link_clicks_daily keeps the per-day totals.
CREATE TABLE link_click_facets (
  slug TEXT NOT NULL REFERENCES links(slug),
  day TEXT NOT NULL,
  dimension TEXT NOT NULL CHECK (dimension IN ('country', 'referrer', 'device')),
  value TEXT NOT NULL,
  clicks INTEGER NOT NULL,
  PRIMARY KEY (slug, day, dimension, value)
);
-- One row per click message the consumer counted: a redelivered message finds its id here and
-- counts nothing (token: the delivery that inserted the row). Pruned after 7 days by retention.
CREATE TABLE link_click_messages (
  id TEXT PRIMARY KEY,
  token TEXT NOT NULL,
  counted_at INTEGER NOT NULL
);
CREATE INDEX link_click_messages_by_time ON link_click_messages(counted_at);
