import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createTenant, json } from "../helpers";
import { login, withSession } from "./dashboard-helpers";

type Snapshot = {
	scope: string;
	tenant_id: string | null;
	jobs: { by_status: Record<string, number>; counts: { status: string; type: string; n: number }[] };
	devices: { total: number; reporting: number; missed: number };
	queues: { jobs_waiting: number };
	payments: { breaker: string | null };
	series: Record<string, [number, number][]>;
};

async function post(token: string, path: string, body: unknown): Promise<Response> {
	return call("POST", `/api/v1${path}`, { token, body });
}

/** One external job completed, one failed straight to dead, one left queued. */
async function runJobs(apiKey: string): Promise<void> {
	expect((await call("PUT", "/api/v1/job-types/render", { token: apiKey, body: { mode: "external" } })).status).toBe(
		200,
	);
	for (let i = 0; i < 3; i++) expect((await post(apiKey, "/jobs", { type: "render" })).status).toBe(202);
	const first = await json(await post(apiKey, "/jobs/claim", { worker_id: "w1", types: ["render"] }));
	expect((await post(apiKey, `/jobs/${String(first.job_id)}/complete`, { worker_id: "w1" })).status).toBe(200);
	const second = await json(await post(apiKey, "/jobs/claim", { worker_id: "w1", types: ["render"] }));
	const failed = await post(apiKey, `/jobs/${String(second.job_id)}/fail`, {
		worker_id: "w1",
		error: "x",
		retry: false,
	});
	expect(failed.status).toBe(200);
}

async function snapshot(token: string): Promise<Snapshot> {
	const res = await call("GET", "/api/v1/dashboard/snapshot", { token });
	expect(res.status).toBe(200);
	return res.json<Snapshot>();
}

describe("dashboard snapshot", () => {
	it("shows a tenant's jobs by state and type, finished jobs per minute, devices and the breaker", async () => {
		const { apiKey, tenantId } = await createTenant();
		await runJobs(apiKey);
		const reg = await post(apiKey, "/devices", { device_id: "vm-1", kind: "vending", timezone: "UTC", city: "Oslo" });
		expect(reg.status).toBe(201);
		const s = await snapshot(apiKey);
		expect(s).toMatchObject({ scope: "tenant", tenant_id: tenantId });
		expect(s.jobs.by_status).toEqual({ completed: 1, dead: 1, queued: 1 });
		expect(s.jobs.counts).toContainEqual({ status: "dead", type: "render", n: 1 });
		expect(s.queues.jobs_waiting).toBe(1);
		expect(s.devices).toEqual({ total: 1, reporting: 0, missed: 1 });
		expect(s.payments.breaker).toBe("closed");
		const completed = s.series.jobs_finished_completed ?? [];
		expect(completed.length).toBeGreaterThan(50);
		expect(completed.reduce((sum, [, n]) => sum + n, 0)).toBe(1);
		expect((s.series.jobs_finished_dead ?? []).reduce((sum, [, n]) => sum + n, 0)).toBe(1);
		// This minute's gauges were recorded on the way.
		expect(s.series.queue_jobs_waiting?.at(-1)?.[1]).toBe(1);
	});

	it("never shows one tenant's figures to another", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		await runJobs(a.apiKey);
		const s = await snapshot(b.apiKey);
		expect(s.tenant_id).toBe(b.tenantId);
		expect(s.jobs.by_status).toEqual({});
		expect(s.series.jobs_finished_completed).toBeUndefined();
	});

	it("gives the platform's figures to the admin token and to an operator session, and 401 to no one", async () => {
		expect(await snapshot(env.ADMIN_TOKEN)).toMatchObject({ scope: "platform", tenant_id: null });
		const { cookie } = await login(env.ADMIN_TOKEN);
		const viaSession = await withSession("GET", "/api/v1/dashboard/snapshot", cookie);
		expect(await viaSession.json()).toMatchObject({ scope: "platform" });
		expect((await call("GET", "/api/v1/dashboard/snapshot")).status).toBe(401);
	});

	it("counts responses by status class and limiter decisions by policy for the tenant", async () => {
		const { apiKey, tenantId } = await createTenant();
		await call("GET", "/api/v1/jobs", { token: apiKey });
		await call("GET", "/api/v1/jobs/job_00000000000000000000000000000000", { token: apiKey });
		await snapshot(apiKey);
		const rows = await env.DB.prepare("SELECT series, value FROM dashboard_samples WHERE scope = ?")
			.bind(tenantId)
			.all<{ series: string; value: number }>();
		const names = new Set(rows.results.map((r) => r.series));
		expect(names).toContain("http_2xx_total");
		expect(names).toContain("http_4xx_total");
		expect([...names].some((n) => n.startsWith("limit_allowed:"))).toBe(true);
	});

	it("streams snapshots as server-sent events", async () => {
		const { apiKey } = await createTenant();
		const res = await call("GET", "/api/v1/dashboard/stream", { token: apiKey });
		expect(res.status).toBe(200);
		expect(res.headers.get("Content-Type")).toContain("text/event-stream");
		const reader = res.body?.getReader();
		if (!reader) throw new Error("no body");
		let text = "";
		while (!text.includes("\n\n")) {
			const { value, done } = await reader.read();
			if (done) break;
			text += new TextDecoder().decode(value);
		}
		await reader.cancel();
		expect(text).toMatch(/^event: snapshot\n/m);
		const data = /^data: (.*)$/m.exec(text)?.[1] ?? "";
		expect(JSON.parse(data)).toMatchObject({ scope: "tenant" });
		expect((await call("GET", "/api/v1/dashboard/stream")).status).toBe(401);
	});
});
