import { describe, expect, it } from "vitest";
import type { Fingerprint, IdempotencyRecord } from "../../../src/gateway/idempotency/domain";
import {
	canonicalBody,
	canonicalJson,
	decideBegin,
	decideComplete,
	fingerprintBody,
	holdsLock,
	idempotencyKeySchema,
} from "../../../src/gateway/idempotency/domain";

const FP: Fingerprint = { method: "POST", path: "/api/v1/payments", bodyHash: "abc" };
const T = { now: 1000, lockMs: 500, retentionMs: 10_000 };
const RESPONSE = { status: 201, body: "{}", headers: { "content-type": "application/json" } };

describe("canonical fingerprints", () => {
	it("ignores key order and whitespace but not array order or values", () => {
		expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
		expect(canonicalBody('{ "a": 1,\n "b": 2 }')).toBe(canonicalBody('{"b":2,"a":1}'));
		expect(canonicalBody("[1,2]")).not.toBe(canonicalBody("[2,1]"));
		expect(canonicalBody("not json")).toBe("raw:not json");
		expect(canonicalBody("")).toBe("");
	});

	it("hands on the parsed JSON it fingerprinted (for the route's validator), and nothing for other bodies", () => {
		expect(fingerprintBody('{ "b": [1], "a": 2 }')).toEqual({
			canonical: '{"a":2,"b":[1]}',
			parsed: { value: { b: [1], a: 2 } },
		});
		expect(fingerprintBody("null")).toEqual({ canonical: "null", parsed: { value: null } });
		expect(fingerprintBody("{oops")).toEqual({ canonical: "raw:{oops", parsed: null });
		expect(fingerprintBody("  ")).toEqual({ canonical: "", parsed: null });
	});

	it("accepts keys of 1 to 255 printable characters", () => {
		expect(idempotencyKeySchema.safeParse("a").success).toBe(true);
		expect(idempotencyKeySchema.safeParse("x".repeat(255)).success).toBe(true);
		expect(idempotencyKeySchema.safeParse("").success).toBe(false);
		expect(idempotencyKeySchema.safeParse("x".repeat(256)).success).toBe(false);
		expect(idempotencyKeySchema.safeParse("a b").success).toBe(false);
	});
});

describe("idempotency decisions", () => {
	it("acquires a new key with a lock and a retention deadline", () => {
		const { decision, next } = decideBegin(null, FP, "t1", T);
		expect(decision).toEqual({ kind: "acquired", token: "t1", tookOver: false });
		expect(next).toMatchObject({ state: "in_progress", token: "t1", lockedUntil: 1500, expiresAt: 11_000 });
	});

	it("answers in_progress while the lock holds, and lets a retry take over after it expired", () => {
		const held = decideBegin(null, FP, "t1", T).next as IdempotencyRecord;
		expect(decideBegin(held, FP, "t2", { ...T, now: 1200 }).decision).toEqual({
			kind: "in_progress",
			retryAfterMs: 300,
		});
		const over = decideBegin(held, FP, "t2", { ...T, now: 1600 });
		expect(over.decision).toEqual({ kind: "acquired", token: "t2", tookOver: true });
		expect(holdsLock(over.next ?? null, "t1")).toBe(false);
		expect(decideComplete(over.next ?? null, "t1", RESPONSE, { now: 1700, retentionMs: 10_000 }).stored).toBe(false);
	});

	it("replays a completed record and refuses another method, path or body", () => {
		const held = decideBegin(null, FP, "t1", T).next as IdempotencyRecord;
		const done = decideComplete(held, "t1", RESPONSE, { now: 1100, retentionMs: 10_000 }).next as IdempotencyRecord;
		expect(decideBegin(done, FP, "t2", { ...T, now: 1200 }).decision).toEqual({
			kind: "replay",
			response: RESPONSE,
			expiresAt: 11_100,
		});
		expect(decideBegin(done, { ...FP, method: "PUT" }, "t2", T).decision).toEqual({
			kind: "mismatch",
			field: "method",
		});
		expect(decideBegin(done, { ...FP, path: "/x" }, "t2", T).decision).toEqual({ kind: "mismatch", field: "path" });
		expect(decideBegin(done, { ...FP, bodyHash: "def" }, "t2", T).decision).toEqual({
			kind: "mismatch",
			field: "bodyHash",
		});
	});

	it("treats an expired record as absent", () => {
		const held = decideBegin(null, FP, "t1", T).next as IdempotencyRecord;
		const done = decideComplete(held, "t1", RESPONSE, { now: 1100, retentionMs: 10_000 }).next as IdempotencyRecord;
		expect(decideBegin(done, { ...FP, bodyHash: "other" }, "t3", { ...T, now: 11_100 }).decision.kind).toBe("acquired");
	});
});
