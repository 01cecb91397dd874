-- Dead letters of several queues share one operator view (GET /api/v1/dead-letters): each row names
-- the queue it is replayed into. Rows kept before this migration are telemetry's.
ALTER TABLE dead_letters ADD COLUMN queue TEXT NOT NULL DEFAULT 'floodgate-telemetry';
CREATE INDEX dead_letters_by_queue ON dead_letters(queue, created_at);
