-- Email campaigns (issue 14): lists, subscribers, campaigns, the per-recipient delivery ledger,
-- the per-tenant suppression list, and the built-in sandbox provider's record.

CREATE TABLE email_lists (
	tenant_id TEXT NOT NULL,
	list_id TEXT NOT NULL,
	name TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, list_id)
);

-- id is the subscriber's key everywhere (ledger, cursors, idempotency keys): ascending, never reused.
CREATE TABLE email_subscribers (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant_id TEXT NOT NULL,
	list_id TEXT NOT NULL,
	email TEXT NOT NULL,
	first_name TEXT NOT NULL DEFAULT '',
	last_name TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL DEFAULT 'subscribed',
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (tenant_id, list_id, email)
);
CREATE INDEX email_subscribers_list ON email_subscribers (tenant_id, list_id, id);
CREATE INDEX email_subscribers_status ON email_subscribers (tenant_id, list_id, status);
CREATE INDEX email_subscribers_email ON email_subscribers (tenant_id, email);

CREATE TABLE email_campaigns (
	tenant_id TEXT NOT NULL,
	campaign_id TEXT NOT NULL,
	name TEXT NOT NULL,
	list_id TEXT NOT NULL,
	from_address TEXT NOT NULL,
	subject TEXT NOT NULL,
	text_body TEXT NOT NULL,
	html_body TEXT,
	status TEXT NOT NULL,
	total INTEGER NOT NULL DEFAULT 0,
	sent INTEGER NOT NULL DEFAULT 0,
	failed INTEGER NOT NULL DEFAULT 0,
	bounced INTEGER NOT NULL DEFAULT 0,
	suppressed INTEGER NOT NULL DEFAULT 0,
	-- The fan-out: subscribers with id <= fill_cursor have ledger rows; fill_done once the list is exhausted.
	fill_cursor INTEGER NOT NULL DEFAULT 0,
	fill_done INTEGER NOT NULL DEFAULT 0,
	-- The one live chain of tick messages; a tick carrying another token is stale and dropped.
	chain TEXT,
	backoff_level INTEGER NOT NULL DEFAULT 0,
	last_error TEXT,
	created_at INTEGER NOT NULL,
	started_at INTEGER,
	finished_at INTEGER,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, campaign_id)
);
CREATE INDEX email_campaigns_active ON email_campaigns (status, updated_at);

-- The ledger: one row per (campaign, subscriber); its key is the provider idempotency key.
CREATE TABLE email_deliveries (
	campaign_id TEXT NOT NULL,
	subscriber_id INTEGER NOT NULL,
	tenant_id TEXT NOT NULL,
	email TEXT NOT NULL,
	status TEXT NOT NULL DEFAULT 'pending',
	attempts INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL DEFAULT 0,
	lease_until INTEGER NOT NULL DEFAULT 0,
	claim TEXT,
	last_error TEXT,
	provider_id TEXT,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (campaign_id, subscriber_id)
);
CREATE INDEX email_deliveries_status ON email_deliveries (campaign_id, status, subscriber_id);
CREATE INDEX email_deliveries_updated ON email_deliveries (updated_at);

CREATE TABLE email_suppressions (
	tenant_id TEXT NOT NULL,
	email TEXT NOT NULL,
	reason TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, email)
);

-- The sandbox provider's record, deduplicated by (tenant, idempotency key) like a real provider.
CREATE TABLE email_sandbox_messages (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	tenant_id TEXT NOT NULL,
	idempotency_key TEXT NOT NULL,
	campaign_id TEXT,
	recipient TEXT NOT NULL,
	sender TEXT NOT NULL,
	subject TEXT NOT NULL,
	text_body TEXT NOT NULL,
	html_body TEXT,
	headers TEXT NOT NULL,
	outcome TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX email_sandbox_campaign ON email_sandbox_messages (tenant_id, campaign_id, seq);
CREATE INDEX email_sandbox_created ON email_sandbox_messages (created_at);

-- First attempts the sandbox has seen of flaky+ addresses (their second attempt succeeds).
CREATE TABLE email_sandbox_attempts (
	tenant_id TEXT NOT NULL,
	idempotency_key TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, idempotency_key)
);
