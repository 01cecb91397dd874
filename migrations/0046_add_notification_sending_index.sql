-- Sends in flight: the every-minute sweep (src/notifications/sweeper.ts) reads only `sending` rows,
-- oldest first, to hand back the ones whose consumer died mid-send.
CREATE INDEX notification_deliveries_sending ON notification_deliveries (updated_at)
  WHERE status = 'sending';
