import type { ClaimedJob } from "./claims-db";
import type { GivenBack } from "./batches-db";
import { giveBack } from "./batches-db";
import { handlerFor } from "./handlers/registry";
import type { HandlerLookup } from "./attempt";
import { attemptTimeoutSeconds, runAttempt } from "./attempt";
import { claimWeighted } from "./claims";
import { releaseSlot, takeSlot, typeLimits } from "./gate";
import type { GateLimits } from "../../durable-objects/jobs-type-gate";
import type { FinishedAttempt } from "./transitions";
import { finishAttempts } from "./transitions";
import { sendRunTokens } from "./tokens";
import { InvocationBudget } from "./budget";
import { FLUSH_EVERY, FLUSH_INTERVAL_MS, OutcomeWriter } from "./outcome-writer";
import { MAX_BUILTIN_TIMEOUT_SECONDS, subrequestsOf } from "./domain";

/** Jobs claimed together in one statement; they run as slots allow and are written as they finish. */
export const ROUND_MAX_JOBS = 500;
/** Rounds per tenant per invocation; units left after that are handed to fresh tokens. */
export const MAX_ROUNDS = 20;

/** Round size for a tenant with limited types (each of their jobs is one JobTypeGate call). */
export const LIMITED_ROUND_JOBS = 100;
/** Jobs of limited types per invocation (each takes and releases a slot: two subrequests). */
export const MAX_GATED_PER_INVOCATION = 200;
/**
 * Subrequests one outcome group may make: its outcome batch, retry tokens, the dependents' edge
 * query, their release or cancel, and the tokens of released ones (cancel chains deeper than the
 * inline levels are left to the sweeper).
 */
export const GROUP_SUBREQUESTS = 6;
/** A round is not started with fewer subrequests left than this. */
const MIN_ROUND_SUBREQUESTS = 20;
const GATE_SUBREQUESTS = 2;
/** Time kept between an attempt's end and its claim's expiry, for its outcome write. */
const WRITE_MARGIN_MS = 2_000;
/** An attempt with less than this left of its claim is handed back rather than started. */
const MIN_ATTEMPT_MS = 200;

/** `saturated`: a per-type limit refused jobs, so the leftover units should wait a moment. */
export type RunSummary = { claimed: number; leftover: number; saturated: boolean };
export type RoundLimits = { roundJobs: number; rounds: number };
export type RunOptions = Partial<RoundLimits> & {
	/** The invocation's budget, shared with the other tenants of the batch (a fresh one if absent). */
	budget?: InvocationBudget;
	handlers?: HandlerLookup;
	flushEvery?: number;
	flushIntervalMs?: number;
};

type Round = { env: Env; tenantId: string; limitsByType: ReadonlyMap<string, GateLimits>; options: RunOptions };
type RoundResult = { refused: number; asked: number; handedBack: number };

/**
 * Runs up to `units` of a tenant's ready built-in jobs (the units of the run tokens received), in
 * rounds: claim by weighted priority, take per-type slots, run the handlers (at most
 * OUTBOUND_CONNECTIONS of fetching types at once) with their timeouts, and write each outcome as
 * it finishes, in small groups. Stops when no more jobs are ready (remaining units are surplus),
 * after MAX_ROUNDS, or when the invocation's subrequests or wall time run short; `leftover` is
 * then the units the caller must pass on to new tokens before acking.
 */
export async function runReadyJobs(
	env: Env,
	tenantId: string,
	units: number,
	consumerId: string,
	options: RunOptions = {},
): Promise<RunSummary> {
	const budget = options.budget ?? new InvocationBudget({ startedAt: Date.now() });
	// Looked up once for all rounds; each job of a limited type asks its JobTypeGate.
	const limitsByType = await typeLimits(env.DB, tenantId);
	const roundLimit = options.roundJobs ?? ROUND_MAX_JOBS;
	const roundJobs = limitsByType.size > 0 ? Math.min(roundLimit, LIMITED_ROUND_JOBS) : roundLimit;
	const round: Round = { env, tenantId, limitsByType, options: { ...options, budget } };
	let left = units;
	let claimed = 0;
	let gated = 0;
	for (let r = 0; r < (options.rounds ?? MAX_ROUNDS) && left > 0; r++) {
		// Too little left of the invocation to claim and finish a round: pass the units on.
		if (budget.left < MIN_ROUND_SUBREQUESTS || !budget.fits(Date.now(), MAX_BUILTIN_TIMEOUT_SECONDS * 1000))
			return { claimed, leftover: left, saturated: false };
		const n = Math.min(left, roundJobs);
		budget.spend(1);
		const claimedAt = Date.now();
		const { jobs, maybeMore } = await claimWeighted(env, {
			tenantId,
			runner: "queue",
			types: null,
			n,
			now: claimedAt,
			claimedBy: consumerId,
		});
		left -= jobs.length;
		claimed += jobs.length;
		const { refused, asked, handedBack } =
			jobs.length > 0 ? await runRound(round, budget, jobs, claimedAt) : { refused: 0, asked: 0, handedBack: 0 };
		gated += asked;
		if (jobs.length < n && !maybeMore) return { claimed, leftover: 0, saturated: false };
		// A type at its limit: its jobs are back with delayed tokens; the units left are not spent
		// on claiming more of them now, but passed on (the caller delays them a little).
		if (refused > 0) return { claimed, leftover: left, saturated: true };
		// Jobs the budget could not cover went back with their own tokens; so do the units left.
		if (handedBack > 0) return { claimed, leftover: left, saturated: false };
		// Each gated job is two Durable Object calls: keep an invocation's subrequests bounded.
		if (gated >= MAX_GATED_PER_INVOCATION) return { claimed, leftover: left, saturated: false };
	}
	return { claimed, leftover: left, saturated: false };
}

/**
 * Runs one round. Jobs the subrequest budget cannot cover, that their type's gate refuses, or
 * that could no longer finish within the invocation's wall time are handed back uncounted with
 * their own tokens; the others run, and their outcomes are written in groups as they finish.
 */
async function runRound(
	round: Round,
	budget: InvocationBudget,
	jobs: ClaimedJob[],
	claimedAt: number,
): Promise<RoundResult> {
	const { env, limitsByType, options } = round;
	const every = options.flushEvery ?? FLUSH_EVERY;
	// The groups' writes are owed whatever happens; timed (early) groups are extra and optional.
	budget.spend(GROUP_SUBREQUESTS * (Math.ceil(jobs.length / every) + 1));
	const admitted: ClaimedJob[] = [];
	const refused: GivenBack[] = [];
	const overBudget: ClaimedJob[] = [];
	for (const job of jobs) {
		// Types without max_concurrency or rate_per_second never ask the JobTypeGate.
		const typeLimit = limitsByType.get(job.type);
		if (!budget.trySpend(subrequestsOf(job.type) + (typeLimit ? GATE_SUBREQUESTS : 0))) {
			overBudget.push(job);
			continue;
		}
		const gate = typeLimit ? await takeSlot(env, job, typeLimit) : ({ ok: true } as const);
		if (gate.ok) admitted.push(job);
		else refused.push({ id: job.id, version: job.version, readyAt: Date.now() + gate.retryAfterMs });
	}
	// Over the type's limit: the claims are given back uncounted, in one statement, and come back
	// (with their own tokens) when a slot may be free.
	await handBack(round, budget, refused);
	const late = await runAdmitted(round, budget, admitted, { every, claimedAt });
	const now = Date.now();
	const unrun = [...overBudget, ...late].map((job) => ({ id: job.id, version: job.version, readyAt: now }));
	await handBack(round, budget, unrun);
	return {
		refused: refused.length,
		asked: jobs.filter((job) => limitsByType.has(job.type)).length,
		handedBack: unrun.length,
	};
}

/**
 * Runs the admitted jobs, fetching types through the invocation's OUTBOUND_CONNECTIONS slots, and
 * writes outcomes as they finish. An attempt must end (and be written) before its claim expires —
 * claimed_at + timeout_seconds, after which any claim may take the job back — so time spent
 * waiting for a slot is taken from its timeout. Returns the jobs that never started because too
 * little of their claim or of the invocation's wall time was left (their gate slots released).
 */
async function runAdmitted(
	round: Round,
	budget: InvocationBudget,
	admitted: readonly ClaimedJob[],
	{ every, claimedAt }: { every: number; claimedAt: number },
): Promise<ClaimedJob[]> {
	const { env, limitsByType, options } = round;
	const gated = (job: ClaimedJob) => limitsByType.has(job.type);
	const writer = new OutcomeWriter<FinishedAttempt>(
		async (group) => {
			try {
				await finishAttempts(env, group);
			} finally {
				await Promise.all(group.filter((a) => gated(a.job)).map((a) => releaseSlot(env, a.job)));
			}
		},
		{
			every,
			intervalMs: options.flushIntervalMs ?? FLUSH_INTERVAL_MS,
			mayFlushEarly: () => budget.trySpend(GROUP_SUBREQUESTS),
		},
	);
	const deps = { handlers: options.handlers ?? handlerFor, mayWrite: () => budget.trySpend(1) };
	const late: ClaimedJob[] = [];
	try {
		await Promise.all(
			admitted.map(async (job) =>
				(subrequestsOf(job.type) > 0 ? budget.outbound : budget.local).run(async () => {
					const now = Date.now();
					const ms = attemptMs(job, claimedAt, now);
					if (ms < MIN_ATTEMPT_MS || !budget.fits(now, ms)) return void late.push(job);
					writer.add(await runAttempt(env, job, deps, ms));
				}),
			),
		);
	} finally {
		await writer.close();
		await Promise.all(late.filter(gated).map((job) => releaseSlot(env, job)));
	}
	return late;
}

/**
 * How long an attempt starting at `now` may run: its timeout, but ending a write margin (a
 * quarter of the timeout, at most 2 s) before its claim expires.
 */
function attemptMs(job: ClaimedJob, claimedAt: number, now: number): number {
	const claimMs = job.timeout_seconds * 1000;
	const margin = Math.min(WRITE_MARGIN_MS, claimMs / 4);
	return Math.min(attemptTimeoutSeconds(job) * 1000, claimedAt + claimMs - margin - now);
}

/** Claims handed back unrun, uncounted, in one statement, each with a token for its ready time. */
async function handBack(round: Round, budget: InvocationBudget, jobs: readonly GivenBack[]): Promise<void> {
	if (jobs.length === 0) return;
	budget.spend(2);
	const now = Date.now();
	const applied = await giveBack(round.env.DB, jobs, now);
	await sendRunTokens(
		round.env,
		jobs.filter((j) => applied.has(j.id)).map((j) => ({ tenantId: round.tenantId, jobId: j.id, readyAt: j.readyAt })),
		now,
	);
}
