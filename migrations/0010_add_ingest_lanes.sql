-- Fast and slow ingest lanes (issue 18): the backfill lane's share of the enqueued and processed
-- counters (the live lane's is the rest), and each written message's lane, from which the consumer
-- counts backfill_processed once per message id like processed.
ALTER TABLE telemetry_stats ADD COLUMN backfill_enqueued INTEGER NOT NULL DEFAULT 0;
ALTER TABLE telemetry_stats ADD COLUMN backfill_processed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE telemetry_messages ADD COLUMN lane TEXT NOT NULL DEFAULT 'live' CHECK (lane IN ('live', 'backfill'));
