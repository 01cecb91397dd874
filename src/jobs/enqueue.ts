import type { JobRow } from "./db";
import { findJobsByIds, findLiveByDedupeKeys, findNewestByDedupeKeys } from "./db";
import type { NewJob, WrittenJob } from "./enqueue-db";
import { writeNewJobs } from "./enqueue-db";
import type { JobSpec } from "./spec";
import { firstReadyAt } from "./spec";
import type { JobStatus } from "./domain";
import { DEFAULT_TIMEOUT_SECONDS, MAX_DEPENDENCY_DEPTH } from "./domain";
import { requireTimeouts } from "./spec";
import { AppError } from "../platform/errors";
import { errorText, log } from "../platform/log";
import type { DeclaredType } from "./declared-types";
import { declaredTypes } from "./declared-types";
import type { TokenRequest } from "./tokens";
import { sendRunTokens } from "./tokens";
import { policyFromEnv } from "../platform/destination";
import { refusedDestination } from "./handlers/http";

export type Enqueued = { job_id: string; status: JobStatus; deduplicated: boolean };

/** What a spec becomes: the live job holding its dedupe key, a new job, or the new job of an earlier spec's key. */
type Planned = { kind: "existing"; answer: Enqueued } | { kind: "new"; job: NewJob } | { kind: "repeat"; of: string };

/** What the specs refer to, read before writing. */
type References = {
	types: Map<string, DeclaredType>;
	/** Live jobs by the dedupe key they hold. */
	live: Map<string, JobRow>;
	/** The jobs named in depends_on, by id (all exist). */
	dependencies: Map<string, JobRow>;
};

const ID_CHUNK = 90;

/**
 * Validates references (types, dependencies), applies dedupe keys, writes all jobs in one
 * DB.batch, then sends their run tokens. The 2xx that follows means the jobs are in D1: a token
 * lost after that is re-sent by the sweeper (src/jobs/sweeper.ts).
 */
export async function enqueueJobs(env: Env, tenantId: string, specs: JobSpec[], now = Date.now()): Promise<Enqueued[]> {
	requireAllowedDestinations(env, specs);
	const refs = await resolveReferences(env.DB, tenantId, specs);
	const planned = planJobs(specs, refs, now);
	const newJobs = planned.flatMap((p) => (p.kind === "new" ? [p.job] : []));
	const written = await writeNewJobs(env.DB, tenantId, newJobs, now);
	await sendTokensOrLeaveToSweeper(env, runTokensFor(tenantId, newJobs, written), now);
	const created = await answersForNewJobs(env.DB, tenantId, newJobs, written);
	return planned.map((p) => answerFor(p, created));
}

async function resolveReferences(db: D1Database, tenantId: string, specs: JobSpec[]): Promise<References> {
	const types = await declaredTypes(db, tenantId);
	requireDeclaredTypes(specs, types);
	requireTimeouts(specs, types);
	const dependencies = await dependencyRows(db, tenantId, specs);
	requireChainDepth(specs, dependencies);
	return { types, live: await liveByDedupeKey(db, tenantId, specs), dependencies };
}

/** 400 `dependency_too_deep` for the first spec whose chain would pass MAX_DEPENDENCY_DEPTH. */
function requireChainDepth(specs: JobSpec[], dependencies: Map<string, JobRow>): void {
	for (const [index, spec] of specs.entries()) {
		const depth = chainDepth(spec.depends_on ?? [], dependencies);
		if (depth > MAX_DEPENDENCY_DEPTH)
			throw new AppError(
				400,
				"dependency_too_deep",
				`A chain of dependencies may be at most ${MAX_DEPENDENCY_DEPTH} deep; this job would be at depth ${depth}.`,
				{ index, depth, max_depth: MAX_DEPENDENCY_DEPTH },
			);
	}
}

/** 0 without dependencies, else one more than the deepest dependency. */
function chainDepth(dependsOn: readonly string[], dependencies: Map<string, JobRow>): number {
	let deepest = -1;
	for (const id of dependsOn) deepest = Math.max(deepest, dependencies.get(id)?.dep_depth ?? 0);
	return deepest + 1;
}

/**
 * 400 `destination_not_allowed` (nothing written) when an http job's URL may not be fetched:
 * refused now rather than failing later in the queue. Redirects are checked again at run time.
 */
export function requireAllowedDestinations(env: Env, specs: Pick<JobSpec, "type" | "payload">[]): void {
	const policy = policyFromEnv(env);
	for (const [index, spec] of specs.entries()) {
		const reason = spec.type === "http" ? refusedDestination(spec.payload, policy) : null;
		if (reason !== null)
			throw new AppError(
				400,
				"destination_not_allowed",
				`payload.url of job ${index} is not an allowed destination: ${reason}.`,
				{ index, reason },
			);
	}
}

function requireDeclaredTypes(specs: JobSpec[], types: Map<string, DeclaredType>): void {
	const index = specs.findIndex((spec) => !types.has(spec.type));
	const spec = specs[index];
	if (!spec) return;
	throw new AppError(
		400,
		"unknown_job_type",
		`Job type '${spec.type}' is not declared. Declare it with PUT /api/v1/job-types/${spec.type}.`,
		{ index, type: spec.type },
	);
}

/** One plan per spec, in order; a dedupe key repeated within the request makes one job. */
function planJobs(specs: JobSpec[], refs: References, now: number): Planned[] {
	const newJobByKey = new Map<string, string>();
	return specs.map((spec): Planned => {
		const key = spec.dedupe_key;
		if (key !== undefined) {
			const live = refs.live.get(key);
			if (live) return { kind: "existing", answer: { job_id: live.id, status: live.status, deduplicated: true } };
			const earlier = newJobByKey.get(key);
			if (earlier !== undefined) return { kind: "repeat", of: earlier };
		}
		const job = newJob(spec, refs, now);
		if (key !== undefined) newJobByKey.set(key, job.row.id);
		return { kind: "new", job };
	});
}

/**
 * The row of a new job. It waits while dependencies are unfinished, and is cancelled at birth if
 * one already ended dead or cancelled.
 */
function newJob(spec: JobSpec, refs: References, now: number): NewJob {
	const readyAt = firstReadyAt(spec, now);
	const deps = (spec.depends_on ?? []).map((id) => refs.dependencies.get(id)).filter((d) => d !== undefined);
	const broken = deps.find((d) => d.status === "dead" || d.status === "cancelled");
	const pending = deps.filter((d) => d.status !== "completed").length;
	const status: JobStatus = broken ? "cancelled" : pending > 0 ? "waiting" : readyAt > now ? "scheduled" : "queued";
	return {
		row: {
			id: `job_${crypto.randomUUID().replaceAll("-", "")}`,
			type: spec.type,
			runner: refs.types.get(spec.type)?.mode === "external" ? "external" : "queue",
			status,
			priority: spec.priority,
			payload: JSON.stringify(spec.payload ?? null),
			max_retries: spec.max_retries,
			timeout_seconds: spec.timeout_seconds ?? DEFAULT_TIMEOUT_SECONDS,
			dedupe_key: spec.dedupe_key ?? null,
			ready_at: readyAt,
			pending_deps: pending,
			error: broken ? `dependency ${broken.id} is ${broken.status}` : null,
			completed_at: broken ? now : null,
			dep_depth: chainDepth(spec.depends_on ?? [], refs.dependencies),
		},
		dependsOn: broken ? [] : deps.map((d) => d.id),
	};
}

/** Tokens for the written queue jobs that are runnable once the batch is done (queued or scheduled). */
function runTokensFor(tenantId: string, jobs: NewJob[], written: Map<string, WrittenJob>): TokenRequest[] {
	return jobs.flatMap(({ row }): TokenRequest[] => {
		const state = written.get(row.id);
		const runnable = state?.runner === "queue" && (state.status === "queued" || state.status === "scheduled");
		return runnable ? [{ tenantId, jobId: row.id, readyAt: row.ready_at }] : [];
	});
}

async function sendTokensOrLeaveToSweeper(env: Env, tokens: TokenRequest[], now: number): Promise<void> {
	try {
		await sendRunTokens(env, tokens, now);
	} catch (err) {
		// The jobs are durable in D1; the sweeper re-sends tokens for runnable jobs left waiting.
		log.warn("run tokens not sent; sweeper will recover", { error: errorText(err) });
	}
}

/**
 * Each new job's answer, by its planned id: as written, or, when a concurrent request took its
 * dedupe key first (the insert did nothing), that request's job.
 */
async function answersForNewJobs(
	db: D1Database,
	tenantId: string,
	jobs: NewJob[],
	written: Map<string, WrittenJob>,
): Promise<Map<string, Enqueued>> {
	const lostKeys = jobs.flatMap(({ row }) => (written.has(row.id) || row.dedupe_key === null ? [] : [row.dedupe_key]));
	const holders = new Map<string, JobRow>();
	for (const row of await findNewestByDedupeKeys(db, tenantId, lostKeys)) {
		if (row.dedupe_key !== null) holders.set(row.dedupe_key, row);
	}
	const answers = new Map<string, Enqueued>();
	for (const { row } of jobs) {
		const mine = written.get(row.id);
		const holder = row.dedupe_key === null ? undefined : holders.get(row.dedupe_key);
		if (mine) answers.set(row.id, { job_id: row.id, status: mine.status, deduplicated: false });
		else if (holder) answers.set(row.id, { job_id: holder.id, status: holder.status, deduplicated: true });
		else
			throw new AppError(
				409,
				"dedupe_conflict",
				"A job with this dedupe_key was created concurrently; retry to receive it.",
			);
	}
	return answers;
}

function answerFor(planned: Planned, created: Map<string, Enqueued>): Enqueued {
	if (planned.kind === "existing") return planned.answer;
	const id = planned.kind === "new" ? planned.job.row.id : planned.of;
	const answer = created.get(id);
	if (!answer) throw new Error(`no answer for planned job ${id}`);
	return planned.kind === "repeat" ? { ...answer, deduplicated: true } : answer;
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
