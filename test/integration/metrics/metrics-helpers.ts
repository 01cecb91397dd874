import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { call, json, sleep } from "../helpers";
import type { Json } from "../helpers";

export const MINUTE = 60_000;
export const HOUR = 3_600_000;

/** An hour boundary safely inside raw retention: samples are placed from here on. */
export function recentHour(): number {
	return Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
}

export function postSamples(apiKey: string, samples: unknown[]): Promise<Response> {
	return call("POST", "/api/v1/metrics", { token: apiKey, body: { samples } });
}

/** Ingests and waits until the local queue's consumer has written every sample. */
export async function ingest(apiKey: string, tenantId: string, samples: unknown[]): Promise<void> {
	const before = await countRows("SELECT COUNT(*) AS n FROM metric_samples WHERE tenant_id = ?", tenantId);
	const res = await postSamples(apiKey, samples);
	expect(res.status, await res.clone().text()).toBe(202);
	await waitFor(async () => {
		const n = await countRows("SELECT COUNT(*) AS n FROM metric_samples WHERE tenant_id = ? AND rolled = 1", tenantId);
		return n >= before + samples.length ? n : undefined;
	});
}

export async function query(apiKey: string, params: Record<string, string | number>): Promise<Response> {
	const qs = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
	return call("GET", `/api/v1/metrics/query?${qs.toString()}`, { token: apiKey });
}

export async function queryValues(apiKey: string, params: Record<string, string | number>): Promise<Json> {
	const res = await query(apiKey, params);
	expect(res.status, await res.clone().text()).toBe(200);
	return json(res);
}

export async function countRows(sql: string, ...params: (string | number)[]): Promise<number> {
	const row = await env.DB.prepare(sql)
		.bind(...params)
		.first<{ n: number }>();
	return row?.n ?? 0;
}

export async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error("condition not met in time");
		await sleep(100);
	}
}
