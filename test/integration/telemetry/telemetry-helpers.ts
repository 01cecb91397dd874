import { env } from "cloudflare:workers";
import type { TelemetryMessage } from "../../../src/telemetry/domain";
import { sleep } from "../helpers";

let clock = Date.UTC(2026, 0, 1);

/** A valid location point with a fresh recorded_at (distinct per call). */
export function point(truckId = "truck-1", overrides: Record<string, unknown> = {}): Record<string, unknown> {
	clock += 1000;
	return {
		truck_id: truckId,
		lat: 52.52,
		lng: 13.405,
		speed_kmh: 42.5,
		heading: 90,
		recorded_at: new Date(clock).toISOString(),
		...overrides,
	};
}

export function report(overrides: Record<string, unknown> = {}): Record<string, unknown> {
	return {
		report_date: "2026-01-15",
		inventory: [
			{ slot: "A1", sku: "cola-330", count: 7, capacity: 10 },
			{ slot: "A2", sku: "water-500", count: 0, capacity: 12 },
		],
		cash_cents: 12_345,
		temperature_c: 4.5,
		error_codes: ["COIN_JAM"],
		firmware: "2.4.1",
		...overrides,
	};
}

let seq = 0;

/** A queue message as the producer would build it (for driving the consumer directly). */
export function locationsMessage(tenantId: string, points: Record<string, unknown>[], id?: string): TelemetryMessage {
	return {
		v: 1,
		id: id ?? messageIdFor(++seq),
		tenant_id: tenantId,
		received_at: Date.now(),
		colo: "FRA",
		country: "DE",
		kind: "locations",
		points: points.map((p) => ({
			truck_id: String(p.truck_id),
			lat: Number(p.lat),
			lng: Number(p.lng),
			speed_kmh: p.speed_kmh === undefined ? null : Number(p.speed_kmh),
			heading: p.heading === undefined ? null : Number(p.heading),
			recorded_at: Date.parse(String(p.recorded_at)),
		})),
	};
}

export function messageIdFor(n: number): string {
	return `msg_${(Date.now() * 1000 + n).toString(16).padStart(24, "0").slice(-24)}`;
}

/** Polls until `check` returns a value (not undefined), for the real local queue to deliver. */
export async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error("condition not met in time");
		await sleep(100);
	}
}

export async function countRows(sql: string, ...params: (string | number)[]): Promise<number> {
	const row = await env.DB.prepare(sql)
		.bind(...params)
		.first<{ n: number }>();
	return row?.n ?? 0;
}
