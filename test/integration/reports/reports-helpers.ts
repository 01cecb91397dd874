import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { call, json, sleep } from "../helpers";
import type { Json } from "../helpers";

export const DAY = 86_400_000;
export const MINUTE = 60_000;

/** A UTC day `n` days before today, as YYYY-MM-DD and its start in ms (historical: never today). */
export function pastDay(n: number): { date: string; start: number } {
	const start = Math.floor(Date.now() / DAY) * DAY - n * DAY;
	return { date: new Date(start).toISOString().slice(0, 10), start };
}

/**
 * `count` points of one truck from `start`, one every `intervalMs`, driving north 0.01° (~1.11 km)
 * between points (a minute apart: ~66.7 km/h), so the day's distance is (count - 1) × 1.112 km. Written straight to D1 (what the
 * telemetry consumer writes), with the truck's latest position.
 */
export async function seedTruck(
	tenantId: string,
	truckId: string,
	start: number,
	count: number,
	intervalMs = MINUTE,
): Promise<void> {
	await env.DB.batch([
		env.DB.prepare(
			`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
 INSERT INTO truck_locations (tenant_id, truck_id, recorded_at, lat, lng, received_at) SELECT ?, ?, ? + i * ?, 10 + i * 0.01, 20, ? FROM n`,
		).bind(count, tenantId, truckId, start, intervalMs, Date.now()),
		env.DB.prepare(
			`INSERT INTO truck_positions (tenant_id, truck_id, recorded_at, lat, lng, received_at) VALUES (?, ?, ?, 10, 20, ?)
 ON CONFLICT DO UPDATE SET recorded_at = excluded.recorded_at`,
		).bind(tenantId, truckId, start, Date.now()),
	]);
}

/** Finished jobs of one type: created at `completedAt - latencyMs`, started `runMs` before completion. */
export async function seedJobs(
	tenantId: string,
	type: string,
	count: number,
	completedAt: number,
	latencyMs: number,
	runMs: number,
): Promise<void> {
	await env.DB.prepare(
		`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ? - 1)
 INSERT INTO jobs (id, tenant_id, type, runner, status, priority, payload, max_retries, timeout_seconds, ready_at, created_at, started_at, completed_at, updated_at)
 SELECT ? || '-' || i, ?, ?, 'queue', 'completed', 'medium', '{}', 3, 60, 0, ? + i - ?, ? + i - ?, ? + i, ? FROM n`,
	)
		.bind(
			count,
			`${tenantId}-${type}`,
			tenantId,
			type,
			completedAt,
			latencyMs,
			completedAt,
			runMs,
			completedAt,
			completedAt,
		)
		.run();
}

export function postReport(apiKey: string, body: unknown): Promise<Response> {
	return call("POST", "/api/v1/reports", { token: apiKey, body });
}

export async function getReport(apiKey: string, id: string): Promise<Json> {
	const res = await call("GET", `/api/v1/reports/${id}`, { token: apiKey });
	expect(res.status, await res.clone().text()).toBe(200);
	return json(res);
}

/** Polls the report until it has `status` (the local queues run its steps meanwhile). */
export async function waitForReport(
	apiKey: string,
	id: string,
	status = "completed",
	timeoutMs = 15_000,
): Promise<Json> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const report = await getReport(apiKey, id);
		if (report.status === status) return report;
		if (report.status === "failed" || Date.now() > deadline) throw new Error(`report ${id}: ${JSON.stringify(report)}`);
		await sleep(50);
	}
}

export async function resultOf(apiKey: string, id: string, format: "json" | "csv"): Promise<Response> {
	return call("GET", `/api/v1/reports/${id}/result?format=${format}`, { token: apiKey });
}
