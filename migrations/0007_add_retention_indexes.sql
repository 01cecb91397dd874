-- Retention (src/platform/retention.ts): each purge takes the oldest expired rows in bounded
-- batches, so each needs an index on the time it expires by.
-- Finished jobs by when they finished (the same status list as the purge's WHERE).
CREATE INDEX jobs_expiry ON jobs(completed_at) WHERE status IN ('completed', 'dead', 'cancelled');
CREATE INDEX job_dead_letters_by_time ON job_dead_letters(received_at);
-- Telemetry points by when the platform received them (device clocks are not trusted for this).
CREATE INDEX truck_locations_by_received ON truck_locations(received_at);
CREATE INDEX machine_reports_by_received ON machine_reports(received_at);
CREATE INDEX dead_letters_by_time ON dead_letters(created_at);
-- Settled payments whose raw processor answer is still kept.
CREATE INDEX payments_answer_expiry ON payments(updated_at) WHERE processor_answer IS NOT NULL;
