import { Hono } from "hono";
import type { AppEnv } from "../platform/app-env";
import { readStats } from "./stats-db";
import { isAdminCaller } from "../gateway/tenants/admin-auth";
import { rateLimit } from "../gateway/limiter/middleware";
import { tenantAuth } from "../gateway/tenants/middleware";
import { flushCounters } from "./counters";
import { telemetryDocs } from "./openapi";

/**
 * GET /api/v1/stats: the caller's telemetry figures, or the platform's for the admin token.
 * Mounted before the tenant routes because it takes either credential.
 */
export const statsRoutes = new Hono<AppEnv>().get("/", telemetryDocs.stats, async (c) => {
	const isAdmin = await isAdminCaller(c);
	let tenantId: string | null = null;
	if (!isAdmin) {
		await tenantAuth()(c, async () => {
			await rateLimit()(c, async () => {});
		});
		tenantId = c.get("principal").tenantId;
	}
	// This isolate's own unflushed counts first, so a client reads its own writes.
	await flushCounters(c.env.DB);
	const s = await readStats(c.env.DB, tenantId);
	return c.json({
		scope: tenantId === null ? "platform" : "tenant",
		tenant_id: tenantId,
		received: s.received,
		enqueued: s.enqueued,
		processed: s.processed,
		batches: s.batches,
		last_batch_at: s.last_batch_at === null ? null : new Date(s.last_batch_at).toISOString(),
		last_batch_size: s.last_batch_size,
		avg_batch_ms: s.batches === 0 ? null : Math.round((s.total_batch_ms / s.batches) * 10) / 10,
		// An estimate: enqueued counts reach D1 up to TELEMETRY_STATS_FLUSH_SECONDS late (see docs).
		backlog: Math.max(0, s.enqueued - s.processed - s.dead_letters),
		dead_letters: s.dead_letters,
		rejected: s.rejected,
		// The two ingest lanes (lanes.ts): the same counters split by lane; backlogs are estimates too.
		lanes: {
			live: lane(
				s.enqueued - s.backfill_enqueued,
				s.processed - s.backfill_processed,
				s.dead_letters - s.backfill_dead_letters,
			),
			backfill: lane(s.backfill_enqueued, s.backfill_processed, s.backfill_dead_letters),
		},
	});
});

function lane(enqueued: number, processed: number, deadLetters: number) {
	return { enqueued, processed, dead_letters: deadLetters, backlog: Math.max(0, enqueued - processed - deadLetters) };
}
