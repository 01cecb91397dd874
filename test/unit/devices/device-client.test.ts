import { describe, expect, it } from "vitest";
import { backoffDelay, parseRetryAfter } from "../../../client/backoff";
import type { Clock } from "../../../client/device-client";
import { DeviceClient } from "../../../client/device-client";
import { memoryStorage } from "../../../client/outbox";
import { sha256Hex } from "../../../src/platform/crypto";
import { verifyParts } from "../../../src/devices/request-signing";

type Scripted = { status: number; body?: unknown; headers?: Record<string, string> } | "network-error";
type Sent = { url: string; method: string; headers: Headers; body: string | null };

function fakeClock(start = Date.UTC(2026, 4, 10, 0, 30)): Clock & { slept: number[]; t: number } {
	const clock = {
		t: start,
		slept: [] as number[],
		now: () => clock.t,
		sleep: async (ms: number) => {
			clock.slept.push(ms);
			clock.t += ms;
		},
	};
	return clock;
}

/** A fetch that answers from a script, one response per request, and records what it got. */
function scriptedFetch(script: Scripted[]): { fetch: typeof fetch; sent: Sent[] } {
	const sent: Sent[] = [];
	const fake = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
		const headers = new Headers(init?.headers);
		sent.push({
			url: input instanceof Request ? input.url : input.toString(),
			method: init?.method ?? "GET",
			headers,
			body: typeof init?.body === "string" ? init.body : null,
		});
		const next = script.shift() ?? { status: 202, body: { accepted: true } };
		if (next === "network-error") throw new TypeError("fetch failed");
		return new Response(JSON.stringify(next.body ?? {}), {
			status: next.status,
			headers: { "Content-Type": "application/json", ...next.headers },
		});
	};
	return { fetch: fake, sent };
}

function client(script: Scripted[], extra: Partial<ConstructorParameters<typeof DeviceClient>[0]> = {}) {
	const clock = fakeClock();
	const storage = memoryStorage();
	const { fetch, sent } = scriptedFetch(script);
	const c = new DeviceClient({
		baseUrl: "https://fg.test",
		deviceId: "vm-1",
		token: "fg_dev_x",
		fetch,
		clock,
		storage,
		random: () => 0.5,
		backoff: { baseMs: 1000, capMs: 8000 },
		...extra,
	});
	return { c, clock, storage, sent };
}

describe("backoff", () => {
	it("doubles the ceiling per attempt up to the cap, with full jitter below it", () => {
		const half = () => 0.5;
		expect([0, 1, 2, 3, 4, 10, 100].map((n) => backoffDelay(n, { baseMs: 1000, capMs: 8000 }, half))).toEqual([
			500, 1000, 2000, 4000, 4000, 4000, 4000,
		]);
		expect(backoffDelay(3, { baseMs: 1000, capMs: 8000 }, () => 0)).toBe(0);
		expect(backoffDelay(3, { baseMs: 1000, capMs: 8000 }, () => 0.999999)).toBe(7999);
	});

	it("spreads delays uniformly over [0, ceiling)", () => {
		let seed = 42;
		const lcg = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
		const delays = Array.from({ length: 20_000 }, () => backoffDelay(5, { baseMs: 100, capMs: 60_000 }, lcg));
		expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
		expect(Math.max(...delays)).toBeLessThan(3200);
		const mean = delays.reduce((a, b) => a + b, 0) / delays.length;
		expect(mean).toBeGreaterThan(1500);
		expect(mean).toBeLessThan(1700);
	});

	it("reads Retry-After as seconds or as an HTTP date", () => {
		const now = Date.UTC(2026, 0, 1, 12);
		expect(parseRetryAfter("7", now)).toBe(7000);
		expect(parseRetryAfter(new Date(now + 30_000).toUTCString(), now)).toBe(30_000);
		expect(parseRetryAfter(new Date(now - 30_000).toUTCString(), now)).toBe(0);
		expect(parseRetryAfter("soon", now)).toBeNull();
		expect(parseRetryAfter(null, now)).toBeNull();
	});
});

describe("device client", () => {
	it("keeps a report in the outbox until a 2xx, retrying with the same idempotency key", async () => {
		const { c, clock, storage, sent } = client([
			{ status: 503 },
			"network-error",
			{ status: 500 },
			{ status: 202, body: { accepted: true } },
		]);
		const result = await c.report({ report_date: "2026-05-09", cash_cents: 100 });
		expect(result).toMatchObject({ sent: 1, retries: 3, pending: 0, rejected: 0 });
		expect(storage.items).toEqual([]);
		expect(sent).toHaveLength(4);
		expect(new Set(sent.map((s) => s.headers.get("Idempotency-Key")))).toEqual(new Set(["vm-1-report-2026-05-09"]));
		expect(sent[0]?.url).toBe("https://fg.test/api/v1/machines/vm-1/reports");
		expect(clock.slept).toEqual([500, 1000, 2000]);
	});

	it("honours Retry-After on 429 and 503 instead of its own backoff", async () => {
		const { c, clock } = client([
			{ status: 429, headers: { "Retry-After": "7" } },
			{ status: 503, headers: { "Retry-After": new Date(Date.UTC(2026, 4, 10, 0, 31)).toUTCString() } },
			{ status: 202 },
		]);
		await c.report({ report_date: "2026-05-09" });
		// 00:30:00 + 7 s = 00:30:07; the date says 00:31:00, 53 s later.
		expect(clock.slept).toEqual([7000, 53_000]);
	});

	it("stops after its attempts per flush and keeps the request for the next flush", async () => {
		const { c, storage, sent } = client(
			Array.from({ length: 3 }, () => ({ status: 503 })),
			{ maxAttemptsPerFlush: 3 },
		);
		const first = await c.report({ report_date: "2026-05-09" });
		expect(first).toMatchObject({ sent: 0, pending: 1, retries: 2 });
		expect(storage.items[0]).toMatchObject({ id: "vm-1-report-2026-05-09", attempts: 3 });
		const second = await c.flush();
		expect(second).toMatchObject({ sent: 1, pending: 0 });
		expect(sent).toHaveLength(4);
	});

	it("drops a request the platform refuses for good, reports it and goes on", async () => {
		const rejected: number[] = [];
		const { c, storage, sent } = client(
			[{ status: 400, body: { error: { code: "validation_failed" } } }, { status: 202 }],
			{ onRejected: (item) => rejected.push(item.status), log: () => undefined },
		);
		await c.enqueue("POST", "/api/v1/machines/vm-1/reports", { bad: true });
		await c.enqueue("POST", "/api/v1/machines/vm-1/reports", { report_date: "2026-05-09" });
		const result = await c.flush();
		expect(result).toMatchObject({ sent: 1, rejected: 1, retries: 0, pending: 0 });
		expect(rejected).toEqual([400]);
		expect(storage.items).toEqual([]);
		expect(sent).toHaveLength(2);
	});

	it("drops a 413 payload_too_large with a logged reason instead of retrying it at the head of the outbox", async () => {
		const logged: { message: string; fields: Record<string, unknown> }[] = [];
		const reasons: string[] = [];
		const { c, storage, sent } = client(
			[
				{
					status: 413,
					body: {
						error: {
							code: "payload_too_large",
							message: "This telemetry is 190000 bytes as a queue message; the limit is 131072 bytes.",
						},
					},
				},
				{ status: 202 },
			],
			{
				log: (message, fields) => logged.push({ message, fields }),
				onRejected: (item) => reasons.push(item.reason),
			},
		);
		await c.enqueue("POST", "/api/v1/machines/vm-1/reports", { report_date: "2026-05-08" }, "big");
		await c.enqueue("POST", "/api/v1/machines/vm-1/reports", { report_date: "2026-05-09" }, "next");
		expect(await c.flush()).toMatchObject({ sent: 1, rejected: 1, retries: 0, pending: 0 });
		expect(storage.items).toEqual([]);
		expect(sent.map((s) => s.headers.get("Idempotency-Key"))).toEqual(["big", "next"]);
		expect(logged).toHaveLength(1);
		expect(logged[0]?.fields).toMatchObject({ id: "big", status: 413, attempts: 1 });
		expect(reasons).toEqual([
			"413 payload_too_large: This telemetry is 190000 bytes as a queue message; the limit is 131072 bytes.",
		]);
	});

	it("keeps retrying 408 and 429, which a later attempt can fix", async () => {
		const logged: unknown[] = [];
		const { c, storage } = client(
			[{ status: 408 }, { status: 429, headers: { "Retry-After": "1" } }, { status: 202 }],
			{
				log: (_m, fields) => logged.push(fields),
			},
		);
		await c.enqueue("POST", "/api/v1/machines/vm-1/reports", { report_date: "2026-05-09" });
		expect(await c.flush()).toMatchObject({ sent: 1, rejected: 0, retries: 2, pending: 0 });
		expect(storage.items).toEqual([]);
		expect(logged).toEqual([]);
	});

	it("keeps one request per id when the same report is queued twice", async () => {
		const { c, storage } = client([{ status: 503 }], { maxAttemptsPerFlush: 1 });
		await c.report({ report_date: "2026-05-09" });
		await c.enqueue("POST", "/api/v1/machines/vm-1/reports", { report_date: "2026-05-09" }, "vm-1-report-2026-05-09");
		expect(storage.items).toHaveLength(1);
	});

	it("follows next_report_at from responses and sleeps until then", async () => {
		const { c, clock } = client([
			{ status: 202, body: { accepted: true, next_report_at: "2026-05-11T00:10:00.000Z" } },
		]);
		await c.report({ report_date: "2026-05-09" });
		expect(c.nextReportAt).toBe(Date.parse("2026-05-11T00:10:00.000Z"));
		const slept = await c.waitForSlot();
		expect(slept).toBe(Date.parse("2026-05-11T00:10:00.000Z") - Date.UTC(2026, 4, 10, 0, 30));
		expect(clock.now()).toBe(Date.parse("2026-05-11T00:10:00.000Z"));
	});

	it("asks for its schedule when it does not know its next slot", async () => {
		const { c, sent } = client([{ status: 200, body: { next_report_at: "2026-05-10T01:00:00.000Z" } }]);
		expect(await c.waitForSlot()).toBe(30 * 60_000);
		expect(sent[0]).toMatchObject({ method: "GET", url: "https://fg.test/api/v1/devices/vm-1/schedule" });
	});

	it("signs each attempt with a fresh nonce the server's verifier accepts, and corrects its clock on clock_skew", async () => {
		const secret = "ab".repeat(32);
		const { c, sent, clock } = client(
			[
				{
					status: 401,
					body: {
						error: { code: "clock_skew", details: { server_time: Math.floor(Date.UTC(2026, 4, 10, 0, 40) / 1000) } },
					},
				},
				{ status: 202 },
			],
			{ signingSecret: secret },
		);
		await c.report({ report_date: "2026-05-09" });
		expect(sent).toHaveLength(2);
		for (const s of sent) {
			const parts = {
				method: s.method,
				pathWithQuery: "/api/v1/machines/vm-1/reports",
				timestamp: Number(s.headers.get("X-Floodgate-Timestamp")),
				nonce: s.headers.get("X-Floodgate-Nonce") ?? "",
				bodySha256: await sha256Hex(s.body ?? ""),
			};
			expect(await verifyParts(secret, parts, s.headers.get("X-Floodgate-Signature") ?? "")).toBe(true);
		}
		expect(sent[0]?.headers.get("X-Floodgate-Nonce")).not.toBe(sent[1]?.headers.get("X-Floodgate-Nonce"));
		expect(Number(sent[1]?.headers.get("X-Floodgate-Timestamp"))).toBe(Math.floor(Date.UTC(2026, 4, 10, 0, 40) / 1000));
		expect(clock.slept).toEqual([0]);
	});
});
