import type { DecisionDelta } from "./decisions-db";
import { addDecisionDeltas, purgeOldDecisions } from "./decisions-db";
import type { LimitTarget } from "./route-limits";
import type { RetentionTarget } from "../../platform/retention";
import { errorText, log } from "../../platform/log";

/**
 * Rate-limit decisions for the ratelimit_decisions report, counted where they are made: in the
 * isolate (most gateway decisions are taken from a lease without reaching the RateLimiter object,
 * so the object alone could not count them). Per request this costs one Map update per limited key
 * and nothing else: no await, no D1 write, no extra round trip. The isolate adds its aggregated
 * counts per (tenant, minute, resource, key) to D1 at most every FLUSH_INTERVAL_MS, or sooner once
 * MAX_PENDING rows are pending, from ctx.waitUntil. A failed flush keeps its counts for the next
 * one. Beyond MAX_PENDING distinct rows, new keys of a minute count under OVERFLOW_KEY, so totals
 * stay exact while memory stays bounded. Counts of an isolate evicted before its flush are lost.
 */

export const FLUSH_INTERVAL_MS = 10_000;
export const MAX_PENDING = 2_000;
export const OVERFLOW_KEY = "(other)";
/** How long decisions are kept: the report's longest range (31 days). */
export const DECISIONS_RETENTION_MS = 31 * 86_400_000;
const MINUTE_MS = 60_000;
const MAX_TEXT = 200;

let pending = new Map<string, DecisionDelta>();
let lastFlushAt = 0;

/**
 * The gateway's decision for one request. Each limited key counts the request as allowed when the
 * request ran, and as rejected when one of that key's policies refused it (a key whose units were
 * handed back because another key refused is not counted: it decided nothing). A fail-closed
 * outage (503) counts as rejected. Returns whether a flush is due.
 */
export function recordGatewayDecision(
	tenantId: string,
	targets: readonly LimitTarget[],
	allowed: boolean,
	violated: readonly string[],
	now: number,
): boolean {
	const prefix = `gw:${tenantId}:`;
	for (const t of targets) {
		const refused = !allowed && t.policies.some((p) => violated.includes(p.name));
		if (!allowed && !refused) continue;
		const key = t.key.startsWith(prefix) ? t.key.slice(prefix.length) : t.key;
		bump(tenantId, `gateway:${t.policies.map((p) => p.name).join("+")}`, key, allowed, now);
	}
	return flushDue(now);
}

/** A decision of the rate-limit service (POST /api/v1/ratelimit/check). Returns whether a flush is due. */
export function recordServiceDecision(
	tenantId: string,
	resource: string,
	key: string,
	allowed: boolean,
	now: number,
): boolean {
	bump(tenantId, resource, key, allowed, now);
	return flushDue(now);
}

/** Adds this isolate's pending counts to D1 and starts counting afresh; on failure they are kept. */
export async function flushDecisions(db: D1Database, now: number = Date.now()): Promise<number> {
	lastFlushAt = now;
	if (pending.size === 0) return 0;
	const batch = [...pending.values()];
	pending = new Map();
	try {
		await addDecisionDeltas(db, batch);
		return batch.length;
	} catch (err) {
		for (const d of batch) merge(d);
		log.error("rate-limit decisions flush failed", { rows: batch.length, error: errorText(err) });
		return 0;
	}
}

/**
 * Starts a flush after the response (ctx.waitUntil). Hono's `c.executionCtx` throws when the app
 * runs without one (app.request in tests): then the flush simply runs detached.
 */
export function flushInBackground(db: D1Database, executionCtx: () => { waitUntil(p: Promise<unknown>): void }): void {
	const flush = flushDecisions(db);
	try {
		executionCtx().waitUntil(flush);
	} catch {
		void flush;
	}
}

export function decisionRetentionTargets(env: Env, now: number): RetentionTarget[] {
	return [
		{
			name: "ratelimit_decisions",
			cutoff: now - DECISIONS_RETENTION_MS,
			purge: (cutoff, limit) => purgeOldDecisions(env.DB, cutoff, limit),
		},
	];
}

function bump(tenantId: string, resource: string, key: string, allowed: boolean, now: number): void {
	merge({
		tenantId,
		minute: Math.floor(now / MINUTE_MS) * MINUTE_MS,
		resource: resource.slice(0, MAX_TEXT),
		key: key.slice(0, MAX_TEXT),
		allowed: allowed ? 1 : 0,
		rejected: allowed ? 0 : 1,
	});
}

function merge(d: DecisionDelta): void {
	let id = `${d.tenantId}\n${d.minute}\n${d.resource}\n${d.key}`;
	let row = pending.get(id);
	if (!row && pending.size >= MAX_PENDING) {
		id = `${d.tenantId}\n${d.minute}\n${d.resource}\n${OVERFLOW_KEY}`;
		row = pending.get(id);
		if (!row) {
			row = { ...d, key: OVERFLOW_KEY, allowed: 0, rejected: 0 };
			pending.set(id, row);
		}
	}
	if (!row) {
		pending.set(id, { ...d });
		return;
	}
	row.allowed += d.allowed;
	row.rejected += d.rejected;
}

function flushDue(now: number): boolean {
	// A fresh isolate starts its interval at its first decision (its first request does not write).
	if (lastFlushAt === 0) lastFlushAt = now;
	const since = now - lastFlushAt;
	// A full buffer flushes early, but at most once a second (a failing D1 is not asked per request).
	return since >= FLUSH_INTERVAL_MS || (pending.size >= MAX_PENDING && since >= 1000);
}
