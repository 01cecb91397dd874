import type { JobInsert } from "./batches-db";
import { insertJobsStatements } from "./batches-db";
import type { JobRow } from "./db";
import { findJobsByIds, findLiveByDedupeKeys } from "./db";
import { insertDependencyStatements, recountPendingStatement } from "./dependencies-db";
import type { JobSpec } from "./spec";
import { firstReadyAt } from "./spec";
import type { JobStatus } from "./domain";
import { DEFAULT_TIMEOUT_SECONDS } from "./domain";
import { AppError } from "../platform/errors";
import { declaredTypes } from "./declared-types";
import { sendRunTokens } from "./tokens";

export type Enqueued = { job_id: string; status: JobStatus; deduplicated: boolean };

const ID_CHUNK = 90;

/**
 * Validates references (types, dependencies), applies dedupe keys, writes all jobs in one
 * DB.batch, then sends their run tokens. The 2xx that follows means the jobs are in D1: a token
 * lost after that is re-sent by the sweeper (src/jobs/sweeper.ts).
 */
export async function enqueueJobs(env: Env, tenantId: string, specs: JobSpec[], now = Date.now()): Promise<Enqueued[]> {
	const types = await declaredTypes(env.DB, tenantId);
	specs.forEach((spec, i) => {
		if (!types.has(spec.type)) {
			throw new AppError(
				400,
				"unknown_job_type",
				`Job type '${spec.type}' is not declared. Declare it with PUT /api/v1/job-types/${spec.type}.`,
				{ index: i, type: spec.type },
			);
		}
	});
	const existing = await liveByDedupeKey(env.DB, tenantId, specs);
	const deps = await dependencyRows(env.DB, tenantId, specs);

	const out: Enqueued[] = [];
	const inserts: JobInsert[] = [];
	const statements: D1PreparedStatement[] = [];
	const tokens: { tenantId: string; jobId: string; readyAt: number }[] = [];
	const claimedKeys = new Map<string, string>();
	const recounts = new Map<number, { id: string; readyAt: number }>();
	for (const spec of specs) {
		const key = spec.dedupe_key;
		const live = key === undefined ? undefined : (existing.get(key) ?? undefined);
		if (live) {
			out.push({ job_id: live.id, status: live.status, deduplicated: true });
			continue;
		}
		if (key !== undefined && claimedKeys.has(key)) {
			out.push({
				job_id: claimedKeys.get(key) ?? "",
				status: out.find((o) => o.job_id === claimedKeys.get(key))?.status ?? "queued",
				deduplicated: true,
			});
			continue;
		}
		const id = `job_${crypto.randomUUID().replaceAll("-", "")}`;
		if (key !== undefined) claimedKeys.set(key, id);
		const readyAt = firstReadyAt(spec, now);
		const depRows = (spec.depends_on ?? []).map((d) => deps.get(d)).filter((d): d is JobRow => d !== undefined);
		const broken = depRows.find((d) => d.status === "dead" || d.status === "cancelled");
		const pending = depRows.filter((d) => d.status !== "completed").length;
		const status: JobStatus = broken ? "cancelled" : pending > 0 ? "waiting" : readyAt > now ? "scheduled" : "queued";
		const runner = types.get(spec.type)?.mode === "external" ? "external" : "queue";
		inserts.push({
			id,
			type: spec.type,
			runner,
			status,
			priority: spec.priority,
			payload: JSON.stringify(spec.payload ?? null),
			max_retries: spec.max_retries,
			timeout_seconds: spec.timeout_seconds ?? DEFAULT_TIMEOUT_SECONDS,
			dedupe_key: key ?? null,
			ready_at: readyAt,
			pending_deps: pending,
			error: broken ? `dependency ${broken.id} is ${broken.status}` : null,
			completed_at: broken ? now : null,
		});
		if (!broken && depRows.length > 0) {
			statements.push(
				...insertDependencyStatements(
					env.DB,
					id,
					depRows.map((d) => d.id),
				),
			);
			// Recounted inside the batch's transaction: a dependency that completed after we read it
			// (before the edge existed) is not waited for forever.
			recounts.set(statements.length, { id, readyAt });
			statements.push(recountPendingStatement(env.DB, id, now));
		}
		if (runner === "queue" && (status === "queued" || status === "scheduled"))
			tokens.push({ tenantId, jobId: id, readyAt });
		out.push({ job_id: id, status, deduplicated: false });
	}
	if (inserts.length > 0) {
		// Jobs first, then their dependency edges and recounts, all in one transaction.
		const jobStatements = insertJobsStatements(env.DB, tenantId, inserts, now);
		try {
			const results = await env.DB.batch([...jobStatements, ...statements]);
			for (const [index, job] of recounts) {
				const row = (
					results[jobStatements.length + index]?.results as { status: JobStatus; runner: string }[] | undefined
				)?.[0];
				const entry = out.find((o) => o.job_id === job.id);
				if (!row || !entry) continue;
				entry.status = row.status;
				if (row.status !== "waiting" && row.runner === "queue")
					tokens.push({ tenantId, jobId: job.id, readyAt: job.readyAt });
			}
		} catch (err) {
			if (String(err).includes("UNIQUE"))
				throw new AppError(
					409,
					"dedupe_conflict",
					"A job with this dedupe_key was created concurrently; retry to receive it.",
				);
			throw err;
		}
	}
	try {
		await sendRunTokens(env, tokens, now);
	} catch (err) {
		// The jobs are durable in D1; the sweeper re-sends tokens for runnable jobs left waiting.
		console.error(
			JSON.stringify({ level: "warn", msg: "run tokens not sent; sweeper will recover", error: String(err) }),
		);
	}
	return out;
}

async function liveByDedupeKey(db: D1Database, tenantId: string, specs: JobSpec[]): Promise<Map<string, JobRow>> {
	const keys = [...new Set(specs.flatMap((s) => (s.dedupe_key === undefined ? [] : [s.dedupe_key])))];
	const found = new Map<string, JobRow>();
	for (let i = 0; i < keys.length; i += ID_CHUNK) {
		for (const row of await findLiveByDedupeKeys(db, tenantId, keys.slice(i, i + ID_CHUNK))) {
			if (row.dedupe_key !== null) found.set(row.dedupe_key, row);
		}
	}
	return found;
}

async function dependencyRows(db: D1Database, tenantId: string, specs: JobSpec[]): Promise<Map<string, JobRow>> {
	const ids = [...new Set(specs.flatMap((s) => s.depends_on ?? []))];
	const found = new Map<string, JobRow>();
	for (let i = 0; i < ids.length; i += ID_CHUNK) {
		for (const row of await findJobsByIds(db, tenantId, ids.slice(i, i + ID_CHUNK))) found.set(row.id, row);
	}
	const missing = ids.filter((id) => !found.has(id));
	if (missing.length > 0)
		throw new AppError(400, "unknown_dependency", `depends_on names jobs that do not exist: ${missing.join(", ")}.`, {
			missing,
		});
	return found;
}
