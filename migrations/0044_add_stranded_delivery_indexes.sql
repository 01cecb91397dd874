-- The every-minute sweepers of stranded deliveries (src/webhooks/sweeper.ts,
-- src/notifications/sweeper.ts) read only the unfinished rows, oldest first: partial indexes keep
-- them off the (much larger) finished history.
CREATE INDEX webhook_deliveries_unfinished ON webhook_deliveries (updated_at)
  WHERE status IN ('pending', 'delivering');
CREATE INDEX notification_deliveries_queued ON notification_deliveries (deliver_at)
  WHERE status = 'queued';
