import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { app } from "../../../src/index";
import { BASE, call, createTenant, json } from "../helpers";
import { point, waitFor } from "./telemetry-helpers";

// A stand-in for updates other isolates enqueued that the consumer has not written yet.
const PHANTOM = "ten_ffffffffffffffffffffffff";

/** The real Worker app with its real bindings, but a tiny backlog bound and no backlog cache. */
async function post(
	apiKey: string,
	path: string,
	body: unknown,
	overrides: Partial<Record<keyof Env, unknown>> = {},
): Promise<Response> {
	const vars = {
		TELEMETRY_MAX_BACKLOG: "100",
		TELEMETRY_MAX_TENANT_BACKLOG: "100",
		TELEMETRY_BACKLOG_CACHE_MS: "0",
		...overrides,
	};
	const ctx = createExecutionContext();
	const request = new Request(`${BASE}${path}`, {
		method: "POST",
		headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
		body: JSON.stringify(body),
	});
	const res = await app.fetch(request, { ...env, ...vars }, ctx);
	await waitOnExecutionContext(ctx);
	return res;
}

async function setPhantomBacklog(enqueued: number, processed: number, tenantId = PHANTOM): Promise<void> {
	await env.DB.prepare(
		"INSERT INTO telemetry_stats (tenant_id, enqueued, processed) VALUES (?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE SET enqueued = excluded.enqueued, processed = excluded.processed",
	)
		.bind(tenantId, enqueued, processed)
		.run();
}

afterEach(async () => {
	await env.DB.prepare("DELETE FROM telemetry_stats WHERE tenant_id = ?").bind(PHANTOM).run();
});

describe("telemetry backpressure", () => {
	it("answers 503 with Retry-After and enqueues nothing while the backlog is over the bound", async () => {
		const { apiKey } = await createTenant();
		await setPhantomBacklog(1000, 0);
		const res = await post(apiKey, "/api/v1/location/batch", { points: [point("t1"), point("t1")] });
		expect(res.status).toBe(503);
		expect(res.headers.get("Retry-After")).toBe("5");
		// Only the caller's own figures (issue 10, point 10): the platform bound was passed, but the
		// 1,000 updates waiting are another tenant's and are not shown.
		const body = await json(res);
		expect(body).toMatchObject({
			error: { code: "backlog_full", details: { limit: "platform", backlog: 0, bound: 100 } },
			request_id: expect.any(String),
		});
		expect(JSON.stringify(body)).not.toContain("1000");
		expect(await json(await call("GET", "/api/v1/stats", { token: apiKey }))).toMatchObject({
			received: 2,
			enqueued: 0,
			rejected: 2,
			processed: 0,
		});

		// Once the consumer has caught up, ingest is accepted again.
		await setPhantomBacklog(1000, 950);
		expect((await post(apiKey, "/api/v1/location/update", point("t1"))).status).toBe(202);
		const stats = await waitFor(async () => {
			const s = await json(await call("GET", "/api/v1/stats", { token: apiKey }));
			return s.processed === 1 ? s : undefined;
		});
		expect(stats).toMatchObject({ received: 3, enqueued: 1, rejected: 2, backlog: 0 });
	});

	it("answers 503, never 202, when the queue does not take the data", async () => {
		const { apiKey } = await createTenant();
		// Fault injection: a queue outage cannot be produced with the local queue, so the real
		// binding is wrapped and its sendBatch fails the way an unavailable queue's would.
		const real = env.TELEMETRY_QUEUE;
		const down: Queue = {
			send: (m, o) => real.send(m, o),
			sendBatch: () => Promise.reject(new Error("queue unavailable")),
			metrics: () => real.metrics(),
		};
		// Both lanes' queues are down (the helper's points are old enough for the backfill lane).
		const res = await post(apiKey, "/api/v1/location/update", point("t1"), {
			TELEMETRY_QUEUE: down,
			TELEMETRY_BACKFILL_QUEUE: down,
		});
		expect(res.status).toBe(503);
		expect(res.headers.get("Retry-After")).toBe("1");
		expect(await json(res)).toMatchObject({ error: { code: "queue_unavailable" } });
		expect(await json(await call("GET", "/api/v1/stats", { token: apiKey }))).toMatchObject({
			received: 1,
			enqueued: 0,
			rejected: 1,
		});
	});

	it("counts dead letters out of the backlog", async () => {
		const { apiKey } = await createTenant();
		await setPhantomBacklog(1000, 0);
		await env.DB.prepare(
			"INSERT INTO dead_letters (id, message_id, tenant_id, kind, body, update_count, reason, attempts, created_at) VALUES ('dl_ffffffffffffffffffffffff', 'msg_phantom', ?, 'locations', '{}', 950, 'retries_exhausted', 6, 0)",
		)
			.bind(PHANTOM)
			.run();
		try {
			expect((await post(apiKey, "/api/v1/location/update", point("t1"))).status).toBe(202);
		} finally {
			await env.DB.prepare("DELETE FROM dead_letters WHERE id = 'dl_ffffffffffffffffffffffff'").run();
		}
	});

	it("shows the admin token the whole platform", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		expect((await call("POST", "/api/v1/location/update", { token: a.apiKey, body: point("t1") })).status).toBe(202);
		expect(
			(await call("POST", "/api/v1/location/batch", { token: b.apiKey, body: { points: [point("t2"), point("t2")] } }))
				.status,
		).toBe(202);
		const platform = await waitFor(async () => {
			const s = await json(await call("GET", "/api/v1/stats", { token: env.ADMIN_TOKEN }));
			const mine = await json(await call("GET", "/api/v1/stats", { token: b.apiKey }));
			return mine.processed === 2 && Number(s.processed) >= 3 ? s : undefined;
		});
		expect(platform).toMatchObject({ scope: "platform", tenant_id: null });
		expect(Number(platform.received)).toBeGreaterThanOrEqual(3);
		expect(Number(platform.batches)).toBeGreaterThanOrEqual(1);
		expect(platform.avg_batch_ms).toEqual(expect.any(Number));
		const mine = await json(await call("GET", "/api/v1/stats", { token: b.apiKey }));
		expect(mine).toMatchObject({ scope: "tenant", received: 2, enqueued: 2, processed: 2, last_batch_size: 2 });
	});

	it("bounds each tenant's own backlog: the tenant over it gets 503 with its own figures, others are accepted", async () => {
		const full = await createTenant("full");
		const other = await createTenant("other");
		await setPhantomBacklog(1000, 0, full.tenantId);
		const bounds = { TELEMETRY_MAX_TENANT_BACKLOG: "500", TELEMETRY_MAX_BACKLOG: "100000" };

		const res = await post(full.apiKey, "/api/v1/location/update", point("t1"), bounds);
		expect(res.status).toBe(503);
		expect(res.headers.get("Retry-After")).toBe("5");
		expect(await json(res)).toMatchObject({
			error: { code: "backlog_full", details: { limit: "tenant", backlog: 1000, bound: 500, retry_after: 5 } },
		});

		const theirs = await post(other.apiKey, "/api/v1/location/update", point("t2"), bounds);
		expect(theirs.status).toBe(202);
		// The other tenant's answer never shows the full tenant's figures either.
		expect(JSON.stringify(await json(theirs))).not.toContain("1000");
	});

	it("keeps the platform bound as well: every tenant gets 503 once the platform's backlog is over it", async () => {
		const { apiKey } = await createTenant();
		await setPhantomBacklog(1000, 0);
		const res = await post(apiKey, "/api/v1/location/update", point("t1"), {
			TELEMETRY_MAX_TENANT_BACKLOG: "50000",
			TELEMETRY_MAX_BACKLOG: "500",
		});
		expect(res.status).toBe(503);
		const body = await json(res);
		expect(body).toMatchObject({
			error: { code: "backlog_full", details: { limit: "platform", backlog: 0, bound: 50000 } },
		});
		expect(JSON.stringify(body)).not.toContain("1000");
		expect(JSON.stringify(body)).not.toContain('"500"');
	});
});
