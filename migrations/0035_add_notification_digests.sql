-- Notification digests (issue 15 §2): per user, category and channel, a window collects the
-- non-critical notifications of a category; at the window's end one notification carries them all.
-- A collected delivery points at its digest (status 'digested'); the digest row's status goes
-- collecting → sealed (no more items join; its notification is being made) → sent.
CREATE TABLE notification_digests (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	category TEXT NOT NULL,
	channel TEXT NOT NULL,
	window_start INTEGER NOT NULL,
	flush_at INTEGER NOT NULL,
	status TEXT NOT NULL,
	notification_id TEXT,
	item_count INTEGER NOT NULL DEFAULT 0,
	-- When the cron last put its flush on the notifications queue (re-sent if still unsent 5 min later).
	enqueued_at INTEGER,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);
CREATE INDEX notification_digests_due ON notification_digests (status, flush_at);
CREATE INDEX notification_digests_created ON notification_digests (created_at);

ALTER TABLE notification_deliveries ADD COLUMN digest_id TEXT;
CREATE INDEX notification_deliveries_digest ON notification_deliveries (digest_id) WHERE digest_id IS NOT NULL;
-- The failed deliveries of a tenant, newest first (the dead letters an operator lists and replays).
CREATE INDEX notification_deliveries_failed ON notification_deliveries (tenant_id, updated_at, id)
	WHERE status = 'failed';
