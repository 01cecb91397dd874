-- Notifications (issue 15 §2): templates, notifications with their rendered content, one delivery
-- per (notification, channel) driven by the delivery engine, user preferences, the SMS sandbox.
CREATE TABLE notification_templates (
	tenant_id TEXT NOT NULL,
	key TEXT NOT NULL,
	category TEXT NOT NULL,
	channels TEXT NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, key)
);

CREATE TABLE notifications (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	template_key TEXT NOT NULL,
	category TEXT NOT NULL,
	priority TEXT NOT NULL,
	idempotency_key TEXT,
	recipient TEXT NOT NULL,
	content TEXT NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX notifications_idempotency ON notifications (tenant_id, idempotency_key)
	WHERE idempotency_key IS NOT NULL;
CREATE INDEX notifications_created ON notifications (created_at);

CREATE TABLE notification_deliveries (
	id TEXT PRIMARY KEY,
	tenant_id TEXT NOT NULL,
	notification_id TEXT NOT NULL,
	channel TEXT NOT NULL,
	priority TEXT NOT NULL,
	status TEXT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	deliver_at INTEGER NOT NULL,
	reason TEXT,
	last_error TEXT,
	updated_at INTEGER NOT NULL,
	UNIQUE (notification_id, channel)
);
CREATE INDEX notification_deliveries_updated ON notification_deliveries (updated_at);

CREATE TABLE notification_preferences (
	tenant_id TEXT NOT NULL,
	user_id TEXT NOT NULL,
	preferences TEXT NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, user_id)
);

CREATE TABLE notification_sms_sandbox (
	tenant_id TEXT NOT NULL,
	idempotency_key TEXT NOT NULL,
	to_phone TEXT NOT NULL,
	text TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, idempotency_key)
);
CREATE INDEX notification_sms_sandbox_created ON notification_sms_sandbox (created_at);

-- Push subscriptions a push delivery has reached, so its retry sends only to the others.
CREATE TABLE notification_push_sent (
	delivery_id TEXT NOT NULL,
	endpoint TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (delivery_id, endpoint)
);
CREATE INDEX notification_push_sent_created ON notification_push_sent (created_at);
