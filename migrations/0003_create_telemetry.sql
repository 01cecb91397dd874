-- Telemetry: truck locations and vending-machine reports written by the telemetry queue consumer,
-- the derived latest state, counters for /api/v1/stats, and dead letters kept for replay.

-- One row per location point; the primary key is the dedupe key (redelivery and client resends
-- are no-ops). recorded_at/received_at are Unix milliseconds.
CREATE TABLE truck_locations (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  truck_id TEXT NOT NULL,
  recorded_at INTEGER NOT NULL,
  lat REAL NOT NULL,
  lng REAL NOT NULL,
  speed_kmh REAL,
  heading REAL,
  colo TEXT,
  country TEXT,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, truck_id, recorded_at)
);

-- Each truck's latest point (by recorded_at), kept current by the consumer.
CREATE TABLE truck_positions (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  truck_id TEXT NOT NULL,
  recorded_at INTEGER NOT NULL,
  lat REAL NOT NULL,
  lng REAL NOT NULL,
  speed_kmh REAL,
  heading REAL,
  colo TEXT,
  country TEXT,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, truck_id)
);

-- One report per machine and local date; a report received later replaces the earlier one.
-- inventory and error_codes are JSON arrays.
CREATE TABLE machine_reports (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  machine_id TEXT NOT NULL,
  report_date TEXT NOT NULL,
  inventory TEXT NOT NULL,
  cash_cents INTEGER NOT NULL,
  temperature_c REAL NOT NULL,
  error_codes TEXT NOT NULL,
  firmware TEXT NOT NULL,
  colo TEXT,
  country TEXT,
  received_at INTEGER NOT NULL,
  message_id TEXT NOT NULL,
  PRIMARY KEY (tenant_id, machine_id, report_date)
);

-- Each machine's latest report (latest report_date, then latest received), kept by the consumer.
CREATE TABLE machine_status (
  tenant_id TEXT NOT NULL REFERENCES tenants(id),
  machine_id TEXT NOT NULL,
  report_date TEXT NOT NULL,
  inventory TEXT NOT NULL,
  cash_cents INTEGER NOT NULL,
  temperature_c REAL NOT NULL,
  error_codes TEXT NOT NULL,
  firmware TEXT NOT NULL,
  colo TEXT,
  country TEXT,
  received_at INTEGER NOT NULL,
  message_id TEXT NOT NULL,
  PRIMARY KEY (tenant_id, machine_id)
);

-- Queue messages (by the producer's id) whose writes committed: counts each message's updates
-- once in `processed` even when it is delivered again. Pruned after the queue retention period.
CREATE TABLE telemetry_messages (
  message_id TEXT PRIMARY KEY,
  tenant_id TEXT NOT NULL,
  update_count INTEGER NOT NULL,
  batch_token TEXT NOT NULL,
  processed_at INTEGER NOT NULL
);
CREATE INDEX telemetry_messages_by_batch ON telemetry_messages(batch_token);
CREATE INDEX telemetry_messages_by_time ON telemetry_messages(processed_at);

-- Counters per tenant (tenant_id '*' holds the platform's batch figures). received/enqueued/
-- rejected are flushed from isolates every few seconds; processed is written with the data.
CREATE TABLE telemetry_stats (
  tenant_id TEXT PRIMARY KEY,
  received INTEGER NOT NULL DEFAULT 0,
  enqueued INTEGER NOT NULL DEFAULT 0,
  rejected INTEGER NOT NULL DEFAULT 0,
  processed INTEGER NOT NULL DEFAULT 0,
  batches INTEGER NOT NULL DEFAULT 0,
  last_batch_at INTEGER,
  last_batch_size INTEGER,
  total_batch_ms INTEGER NOT NULL DEFAULT 0
);

-- Messages that exhausted their retries (or could not be parsed), kept for an operator.
CREATE TABLE dead_letters (
  id TEXT PRIMARY KEY,
  message_id TEXT NOT NULL UNIQUE,
  tenant_id TEXT,
  kind TEXT,
  body TEXT NOT NULL,
  update_count INTEGER NOT NULL,
  reason TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  replayed_at INTEGER,
  replay_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX dead_letters_by_tenant ON dead_letters(tenant_id, replayed_at);
