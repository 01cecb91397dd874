-- An event's fan-out (its delivery rows and first attempts) is recorded as done, so the
-- every-minute sweep (src/webhooks/sweeper.ts) can re-enqueue the fan-out of an event whose fan-out
-- message was never sent (a platform event stored, then the queue send failed). Events stored
-- before this column are historical: marked done, never swept.
ALTER TABLE webhook_events ADD COLUMN fanned_out_at INTEGER;
UPDATE webhook_events SET fanned_out_at = created_at;
CREATE INDEX webhook_events_not_fanned_out ON webhook_events (created_at) WHERE fanned_out_at IS NULL;
