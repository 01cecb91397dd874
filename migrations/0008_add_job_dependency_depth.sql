-- Dependency chains are capped (issue 10): each job records its depth (0 without dependencies, else
-- 1 + its deepest dependency's), so the cap is checked at enqueue from the dependencies' rows.
ALTER TABLE jobs ADD COLUMN dep_depth INTEGER NOT NULL DEFAULT 0;
-- The sweeper's repair of waiting jobs (lost release or cancel) reads them by status and age, and
-- a waiting job's dependencies by job_id (the primary key leads with depends_on).
CREATE INDEX jobs_waiting ON jobs(updated_at) WHERE status = 'waiting';
CREATE INDEX job_dependencies_by_job ON job_dependencies(job_id);
