import { describe, expect, it } from "vitest";
import { MAX_JSON_DEPTH } from "../../../src/platform/body-limit";
import { call, createTenant, json } from "../helpers";

const DEEP = "[".repeat(200_000);

describe("deeply nested JSON bodies", () => {
	const routes: [string, string, Record<string, string>?][] = [
		["POST", "/api/v1/jobs"],
		["POST", "/api/v1/jobs/bulk"],
		["POST", "/api/v1/schedules"],
		["POST", "/api/v1/echo"],
		["POST", "/api/v1/echo", { "Idempotency-Key": "deep-1" }],
		["POST", "/api/v1/jobs/job_00000000000000000000000000000000/complete"],
	];

	for (const [method, path, headers] of routes) {
		it(`answers 400 validation_failed naming the limit on ${method} ${path}${headers ? " with an Idempotency-Key" : ""}`, async () => {
			const { apiKey } = await createTenant();
			const res = await call(method, path, { token: apiKey, body: DEEP, headers });
			expect(res.status).toBe(400);
			const body = await json(res);
			expect(body).toMatchObject({ error: { code: "validation_failed", details: { max_depth: MAX_JSON_DEPTH } } });
			expect(JSON.stringify(body)).toContain(String(MAX_JSON_DEPTH));
		});
	}

	it("accepts nesting up to the limit (left to the route's own schema) and counts brackets in strings as text", async () => {
		const { apiKey } = await createTenant();
		const atLimit = `${"[".repeat(MAX_JSON_DEPTH)}${"]".repeat(MAX_JSON_DEPTH)}`;
		const echoed = await call("POST", "/api/v1/echo", {
			token: apiKey,
			body: { nested: JSON.parse(atLimit.slice(1, -1)) as unknown },
		});
		expect(echoed.status).toBe(201);
		const text = { note: "[".repeat(10_000) };
		expect((await call("POST", "/api/v1/echo", { token: apiKey, body: text })).status).toBe(201);
	});
});
