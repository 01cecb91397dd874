import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createTenant } from "../helpers";

type Family = { type: string; help: boolean };

/**
 * A second, independent reader of the text format 0.0.4 (promtool is the first: scripts/metrics-check.mjs):
 * every sample line must belong to a family declared with HELP and TYPE before it, counters end
 * in _total, label values are quoted, values parse as numbers.
 */
function parseExposition(text: string): {
	families: Map<string, Family>;
	samples: { name: string; labels: Record<string, string>; value: number }[];
} {
	const families = new Map<string, Family>();
	const samples: { name: string; labels: Record<string, string>; value: number }[] = [];
	expect(text.endsWith("\n")).toBe(true);
	for (const line of text.split("\n").filter((l) => l.length > 0)) {
		const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$/.exec(line);
		const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
		if (help?.[1]) {
			expect(families.has(help[1]), `HELP repeated for ${help[1]}`).toBe(false);
			families.set(help[1], { type: "", help: true });
			continue;
		}
		if (type?.[1] && type[2]) {
			const family = families.get(type[1]);
			expect(family, `TYPE before HELP for ${type[1]}`).toBeDefined();
			if (family) family.type = type[2];
			continue;
		}
		const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
		expect(sample, `not a sample line: ${line}`).not.toBeNull();
		if (!sample?.[1] || !sample[3]) continue;
		const labels: Record<string, string> = {};
		for (const m of (sample[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g))
			if (m[1]) labels[m[1]] = m[2] ?? "";
		const family = families.get(sample[1]);
		expect(family?.type, `sample ${sample[1]} without HELP and TYPE`).toBeTruthy();
		if (family?.type === "counter") expect(sample[1]).toMatch(/_total$/);
		const value = Number(sample[3].replace("+Inf", "Infinity"));
		expect(Number.isNaN(value) && sample[3] !== "NaN").toBe(false);
		samples.push({ name: sample[1], labels, value });
	}
	return { families, samples };
}

describe("GET /metrics", () => {
	it("needs the admin token (or the scrape token)", async () => {
		expect((await call("GET", "/metrics")).status).toBe(401);
		expect((await call("GET", "/metrics", { token: "nope" })).status).toBe(401);
		const { apiKey } = await createTenant();
		expect((await call("GET", "/metrics", { token: apiKey })).status).toBe(401);
	});

	it("exposes requests by route and status, telemetry and job figures in the text format", async () => {
		const { apiKey } = await createTenant();
		await call("GET", "/api/v1/metrics/alerts/missing", { token: apiKey });
		await call("GET", "/api/v1/health");
		await env.DB.prepare(
			`INSERT INTO jobs (id, tenant_id, type, runner, status, priority, payload, max_retries, timeout_seconds, ready_at, created_at, updated_at)
 SELECT 'expo-job', id, 'noop', 'external', 'dead', 'low', '{}', 0, 60, 0, 0, 0 FROM tenants LIMIT 1`,
		).run();
		const res = await call("GET", "/metrics", { token: env.ADMIN_TOKEN });
		expect(res.status).toBe(200);
		expect(res.headers.get("Content-Type")).toBe("text/plain; version=0.0.4; charset=utf-8");
		const { families, samples } = parseExposition(await res.text());
		for (const name of [
			"floodgate_http_requests_total",
			"floodgate_telemetry_backlog",
			"floodgate_jobs",
			"floodgate_metrics_samples_ingested_total",
			"floodgate_account_notice_failures_total",
		])
			expect(families.has(name), name).toBe(true);
		const requests = samples.filter((s) => s.name === "floodgate_http_requests_total");
		expect(requests).toContainEqual({
			name: "floodgate_http_requests_total",
			labels: { instance: expect.any(String), route: "/api/v1/metrics/alerts/:id", method: "GET", status: "404" },
			value: expect.any(Number),
		});
		expect(requests.some((s) => s.labels.route === "/api/v1/health" && s.labels.status === "200")).toBe(true);
		expect(
			samples.find((s) => s.name === "floodgate_jobs" && s.labels.status === "dead")?.value,
		).toBeGreaterThanOrEqual(1);
	});

	it("reports the hit rates of the platform's hot-read caches (API keys) per isolate", async () => {
		const { apiKey } = await createTenant();
		const lookups = async (result: "hit" | "miss") => {
			const res = await call("GET", "/metrics", { token: env.ADMIN_TOKEN });
			const { samples } = parseExposition(await res.text());
			return (
				samples.find(
					(s) =>
						s.name === "floodgate_isolate_cache_lookups_total" &&
						s.labels.cache === "api_keys" &&
						s.labels.result === result,
				)?.value ?? 0
			);
		};
		const hitsBefore = await lookups("hit");
		const missesBefore = await lookups("miss");
		// The first use of a new key misses (then reads D1); the next ones hit.
		for (let i = 0; i < 3; i++) expect((await call("GET", "/api/v1/whoami", { token: apiKey })).status).toBe(200);
		expect((await lookups("miss")) - missesBefore).toBeGreaterThanOrEqual(1);
		expect((await lookups("hit")) - hitsBefore).toBeGreaterThanOrEqual(2);
		const res = await call("GET", "/metrics", { token: env.ADMIN_TOKEN });
		const { samples } = parseExposition(await res.text());
		const entries = samples.find((s) => s.name === "floodgate_isolate_cache_entries" && s.labels.cache === "api_keys");
		expect(entries?.value).toBeGreaterThanOrEqual(1);
	});
});
