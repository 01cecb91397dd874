import { describe, expect, it } from "vitest";
import {
	PART_CHARS,
	decodeCursor,
	encodeCursor,
	failingTooLong,
	healthFigures,
	laneKeyOf,
	splitPayload,
	subscribes,
} from "../../../src/webhooks/domain";

describe("webhook subscriptions", () => {
	it("matches exact types and prefix wildcards; no subscriptions means everything", () => {
		expect(subscribes([], "anything.at_all")).toBe(true);
		expect(subscribes(["job.*"], "job.completed")).toBe(true);
		expect(subscribes(["job.*"], "job.a.b")).toBe(true);
		expect(subscribes(["job.*"], "jobber.completed")).toBe(false);
		expect(subscribes(["job.*"], "job")).toBe(false);
		expect(subscribes(["job.dead"], "job.completed")).toBe(false);
		expect(subscribes(["payment.failed", "job.dead"], "job.dead")).toBe(true);
	});
});

describe("payload parts", () => {
	it("splits into parts that join back exactly, never cutting a surrogate pair", () => {
		const text = "a" + "😀".repeat(PART_CHARS);
		const parts = splitPayload(text);
		expect(parts.length).toBeGreaterThan(1);
		expect(parts.join("")).toBe(text);
		for (const p of parts) {
			expect(p.length).toBeLessThanOrEqual(PART_CHARS);
			expect(new TextEncoder().encode(p).byteLength).toBeLessThan(100 * 1024);
			const last = p.charCodeAt(p.length - 1);
			expect(last >= 0xd800 && last <= 0xdbff).toBe(false);
		}
		expect(splitPayload("")).toEqual([""]);
	});
});

describe("ordering keys, cursors, health", () => {
	it("takes the ordering key from a top-level field, or one shared lane without it", () => {
		expect(laneKeyOf(null, { a: 1 })).toBeNull();
		expect(laneKeyOf("order_id", { order_id: "o-1" })).toBe("o-1");
		expect(laneKeyOf("order_id", { order_id: 42 })).toBe("42");
		expect(laneKeyOf("order_id", { other: 1 })).toBe("");
		expect(laneKeyOf("order_id", [1, 2])).toBe("");
	});

	it("round-trips cursors and rejects junk", () => {
		expect(decodeCursor(encodeCursor(123, "ep_abc"))).toEqual({ createdAt: 123, id: "ep_abc" });
		expect(decodeCursor("nope")).toBeNull();
		expect(decodeCursor(undefined)).toBeNull();
	});

	it("computes success rate and nearest-rank percentiles", () => {
		const samples = Array.from({ length: 100 }, (_, i) => ({ ok: i % 4 !== 0, latencyMs: i + 1 }));
		expect(healthFigures(samples)).toEqual({
			attempts: 100,
			succeeded: 75,
			success_rate: 0.75,
			p50_ms: 50,
			p99_ms: 99,
		});
		expect(healthFigures([])).toEqual({ attempts: 0, succeeded: 0, success_rate: null, p50_ms: null, p99_ms: null });
	});

	it("disables after 5 days of failures, not before", () => {
		const now = 10 * 86_400_000;
		expect(failingTooLong(null, now)).toBe(false);
		expect(failingTooLong(now - 5 * 86_400_000 + 1, now)).toBe(false);
		expect(failingTooLong(now - 5 * 86_400_000, now)).toBe(true);
	});
});
