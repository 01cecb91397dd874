import type { JobRow } from "./db";
import type { Priority } from "./domain";
import { PRIORITIES } from "./domain";
import { PRIORITY_PATTERN } from "./priority";

const PRIORITY_CYCLE = PRIORITY_PATTERN.length;

/** A claim statement stops adding jobs once their payloads pass this many characters (memory). */
export const CLAIM_PAYLOAD_BUDGET = 4 * 1024 * 1024;

/**
 * What running a claimed job needs. The statement RETURNs only the columns that differ per job
 * (shipping and parsing whole rows cost more than the claim itself); tenant and runner are the
 * claim's own.
 */
const RETURNED_COLUMNS = [
	"id",
	"type",
	"priority",
	"payload",
	"attempts",
	"max_retries",
	"timeout_seconds",
	"has_dependents",
	"version",
] as const;
export type ClaimedJob = Pick<JobRow, (typeof RETURNED_COLUMNS)[number] | "tenant_id" | "runner">;

/** A processing job whose claim had expired, taken back by a claim: failed (runnable now) or dead. */
export type TakenBack = Pick<JobRow, "id" | "status" | "has_dependents" | "runner">;
export type ClaimResult = { jobs: ClaimedJob[]; payloadChars: number; takenBack: TakenBack[] };

/** Expired claims taken back by one claim (the sweeper takes any others). */
const TAKE_BACK_LIMIT = 100;
const VISIBILITY_TIMEOUT_ERROR = "visibility timeout: no heartbeat or completion before the job's timeout";

export type ClaimSpec = {
	tenantId: string;
	runner: "queue" | "external";
	types: string[] | null;
	limit: number;
	now: number;
	claimedBy: string;
	/** slotPositions(offset) of src/jobs/priority.ts: where each priority's jobs fall. */
	slots: Record<Priority, number[]>;
	budget?: number;
};

/**
 * Atomically claims up to `limit` ready jobs across the three priorities in ONE statement: each
 * priority's oldest ready jobs (oldest ready_at, then insertion order — the rowid ends the
 * jobs_runnable index, so no sort) get their weighted-round-robin positions (`slots`), and the
 * `limit` lowest positions are claimed — 5 : 3 : 1 under a backlog, the others filling in for a
 * priority with too few. One UPDATE … WHERE id IN (SELECT …), so two consumers never claim the
 * same job; bumps version and attempts. The first job is always taken, further ones only while
 * the payloads taken stay within `budget` characters, so a large claim cannot exhaust the
 * isolate's memory. Binds 15 + types.length parameters (types ≤ 20), under D1's 100.
 */
export async function claimReady(db: D1Database, claim: ClaimSpec): Promise<ClaimResult> {
	if (claim.limit <= 0) return { jobs: [], payloadChars: 0, takenBack: [] };
	// Numbered placeholders throughout: a bare `?` after ?15 in the text would be numbered ?16.
	const typeFilter = claim.types ? `AND type IN (${claim.types.map((_, i) => `?${i + 16}`).join(", ")})` : "";
	// Slot numbers are bound as ?7..?15 in PRIORITIES order; the SQL text holds only code constants.
	const slotParams: number[] = [];
	const positionCases = PRIORITIES.map((p) => {
		const mine = claim.slots[p];
		const whens = mine.map((_, j) => `WHEN ${j} THEN ?${7 + slotParams.length + j}`).join(" ");
		slotParams.push(...mine);
		return `WHEN '${p}' THEN ${PRIORITY_CYCLE} * (k / ${mine.length}) + (CASE k % ${mine.length} ${whens} END)`;
	}).join(" ");
	if (slotParams.length !== PRIORITY_CYCLE) throw new Error("slots must cover the priority pattern once");
	// External workers claim without the JobTypeGate (queue jobs take a slot when they run): a type
	// with max_concurrency is capped here, in the claim statement itself, so concurrent claims cannot
	// exceed it — full types are skipped, and one claim takes at most the slots left of each type.
	const capped = claim.runner === "external";
	const fullTypes = capped
		? `AND type NOT IN (SELECT jt.type FROM job_types jt WHERE jt.tenant_id = ?3 AND ${TYPE_SLOTS_LEFT} <= 0)`
		: "";
	const candidates = PRIORITIES.map(
		(p) => `SELECT id, type, payload, '${p}' AS p, ROW_NUMBER() OVER (ORDER BY ready_at, seq) - 1 AS k FROM (
		   SELECT rowid AS seq, id, type, payload, ready_at FROM jobs WHERE tenant_id = ?3 AND runner = ?4 AND priority = '${p}'
		     AND status IN ('queued', 'scheduled', 'failed') AND ready_at <= ?1 ${typeFilter} ${fullTypes}
		   ORDER BY ready_at, rowid LIMIT ?5)`,
	).join(" UNION ALL ");
	const slotsLeft = capped
		? `(SELECT ${TYPE_SLOTS_LEFT} FROM job_types jt WHERE jt.tenant_id = ?3 AND jt.type = c.type)`
		: "NULL";
	const [, taken, claimed] = await db.batch<ClaimRow | TakenBack>([
		...takeBackStatements(db, claim),
		db
			.prepare(
				`UPDATE jobs SET status = 'processing', attempts = attempts + 1, started_at = ?1, updated_at = ?1,
			   claim_expires_at = ?1 + timeout_seconds * 1000, claimed_by = ?2, progress = 0, version = version + 1
			 WHERE id IN (
			   SELECT id FROM (
			     SELECT id, SUM(length(payload)) OVER w AS upto, ROW_NUMBER() OVER w AS rn,
			       ROW_NUMBER() OVER (PARTITION BY type ORDER BY pos) AS tn, slots_left FROM (
			       SELECT id, type, payload, CASE p ${positionCases} END AS pos, ${slotsLeft} AS slots_left
			       FROM (${candidates}) c ORDER BY pos LIMIT ?5)
			     WINDOW w AS (ORDER BY pos ROWS UNBOUNDED PRECEDING))
			   WHERE (rn = 1 OR upto <= ?6) AND (slots_left IS NULL OR tn <= slots_left))
			 RETURNING ${RETURNED_COLUMNS.join(", ")}`,
			)
			.bind(
				claim.now,
				claim.claimedBy,
				claim.tenantId,
				claim.runner,
				claim.limit,
				claim.budget ?? CLAIM_PAYLOAD_BUDGET,
				...slotParams,
				...(claim.types ?? []),
			),
	]);
	// D1 types a batch's rows with one shape for all its statements: each result is narrowed.
	const rows = (claimed?.results ?? []).filter(isClaimRow);
	let payloadChars = 0;
	const jobs: ClaimedJob[] = [];
	for (const row of rows) {
		payloadChars += row.payload.length;
		jobs.push({ ...row, tenant_id: claim.tenantId, runner: claim.runner });
	}
	return { jobs, payloadChars, takenBack: (taken?.results ?? []).filter(isTakenBack) };
}

/** Slots left of the type row `jt` (NULL when it has no max_concurrency): its cap minus its jobs processing. */
const TYPE_SLOTS_LEFT = `(jt.max_concurrency - (SELECT COUNT(*) FROM jobs r WHERE r.tenant_id = jt.tenant_id AND r.status = 'processing' AND r.type = jt.type))`;

type ClaimRow = Pick<JobRow, (typeof RETURNED_COLUMNS)[number]>;

/** Taken-back rows carry their status; claimed rows do not. */
function isTakenBack(row: ClaimRow | TakenBack): row is TakenBack {
	return "status" in row;
}

/** Claimed rows carry their payload; taken-back rows do not. */
function isClaimRow(row: ClaimRow | TakenBack): row is ClaimRow {
	return "payload" in row;
}

/**
 * Visibility timeout at claim time: the tenant's processing jobs of this runner (and types) whose
 * claim expired are taken back in the claim's own transaction, before it — a log line each, then
 * failed and runnable at once (the attempt was counted when claimed) or dead once past
 * max_retries — so the claim that follows can take them: a job whose worker died is claimable
 * again as soon as its claim ends, not at the next sweep. The same rows in both statements (same
 * filter, order and limit, one transaction).
 */
function takeBackStatements(db: D1Database, claim: ClaimSpec): D1PreparedStatement[] {
	const typeFilter = claim.types ? `AND type IN (${claim.types.map((_, i) => `?${i + 6}`).join(", ")})` : "";
	const expired = `SELECT id FROM jobs WHERE status = 'processing' AND claim_expires_at < ?1 AND tenant_id = ?2 AND runner = ?3 ${typeFilter}
	   ORDER BY claim_expires_at, id LIMIT ?4`;
	const params = [
		claim.now,
		claim.tenantId,
		claim.runner,
		TAKE_BACK_LIMIT,
		VISIBILITY_TIMEOUT_ERROR,
		...(claim.types ?? []),
	];
	return [
		db
			.prepare(
				`INSERT INTO job_logs (job_id, at, level, message)
				 SELECT id, ?1, CASE WHEN attempts > max_retries THEN 'error' ELSE 'warn' END,
				   'attempt ' || attempts || ' failed: ' || ?5
				 FROM jobs WHERE id IN (${expired})`,
			)
			.bind(...params),
		db
			.prepare(
				`UPDATE jobs SET status = CASE WHEN attempts > max_retries THEN 'dead' ELSE 'failed' END,
				   error = ?5, ready_at = ?1, updated_at = ?1, claim_expires_at = NULL,
				   completed_at = CASE WHEN attempts > max_retries THEN ?1 ELSE completed_at END, version = version + 1
				 WHERE id IN (${expired})
				 RETURNING id, status, has_dependents, runner`,
			)
			.bind(...params),
	];
}

/** Processing jobs whose visibility timeout has passed (the sweeper takes them back). */
export async function findExpiredClaims(db: D1Database, now: number, limit: number): Promise<JobRow[]> {
	const { results } = await db
		.prepare("SELECT * FROM jobs WHERE status = 'processing' AND claim_expires_at < ? LIMIT ?")
		.bind(now, limit)
		.all<JobRow>();
	return results;
}

/**
 * Heartbeat: extends the claim to `expiresAt` and records progress, only while the claim is still
 * the one read (same version, still processing). Null when the job changed meanwhile.
 */
export async function extendClaim(
	db: D1Database,
	job: Pick<JobRow, "id" | "version">,
	expiresAt: number,
	progress: number | null,
	now: number,
): Promise<{ cancel_requested: number } | null> {
	return db
		.prepare(
			"UPDATE jobs SET claim_expires_at = ?, progress = COALESCE(?, progress), updated_at = ? WHERE id = ? AND version = ? AND status = 'processing' RETURNING cancel_requested",
		)
		.bind(expiresAt, progress, now, job.id, job.version)
		.first<{ cancel_requested: number }>();
}

/**
 * A handler's progress, written only while the claim is still ours (same version) and without
 * bumping the version. Null when the claim was lost.
 */
export async function writeProgress(
	db: D1Database,
	job: Pick<JobRow, "id" | "version">,
	fraction: number,
	now: number,
): Promise<{ cancel_requested: number } | null> {
	return db
		.prepare(
			"UPDATE jobs SET progress = ?, updated_at = ? WHERE id = ? AND version = ? AND status = 'processing' RETURNING cancel_requested",
		)
		.bind(fraction, now, job.id, job.version)
		.first<{ cancel_requested: number }>();
}
