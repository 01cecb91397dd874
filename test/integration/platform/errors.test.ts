import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../../src/index";
import { admin, call, createTenant, json } from "../helpers";

function expectErrorShape(body: Record<string, unknown>, code: string): void {
	expect(body).toMatchObject({ error: { code, message: expect.any(String) }, request_id: expect.any(String) });
}

describe("the one JSON error shape", () => {
	it("answers an unknown path with 404 not_found", async () => {
		const res = await call("GET", "/api/v1/nothing-here");
		expect(res.status).toBe(404);
		expectErrorShape(await json(res), "not_found");
	});

	it("answers a known path with the wrong method with 405 and an Allow header", async () => {
		const res = await admin("PATCH", "/tenants");
		expect(res.status).toBe(405);
		expect(res.headers.get("Allow")).toBe("GET, HEAD, POST");
		expectErrorShape(await json(res), "method_not_allowed");
	});

	it("echoes the caller's X-Request-Id in the header and the error body", async () => {
		const res = await call("GET", "/api/v1/nothing-here", { headers: { "X-Request-Id": "req-123" } });
		expect(res.headers.get("X-Request-Id")).toBe("req-123");
		expect((await json(res)).request_id).toBe("req-123");
	});

	it("rejects a body over MAX_BODY_BYTES with 413 and stores nothing", async () => {
		const name = "x".repeat(Number(env.MAX_BODY_BYTES) + 10);
		const res = await admin("POST", "/tenants", { name });
		expect(res.status).toBe(413);
		expectErrorShape(await json(res), "payload_too_large");
		const count = await env.DB.prepare("SELECT COUNT(*) AS n FROM tenants WHERE length(name) > 1000").first<number>(
			"n",
		);
		expect(count).toBe(0);
	});

	it("rejects a non-JSON content type with 415", async () => {
		const res = await call("POST", "/api/v1/admin/tenants", {
			token: env.ADMIN_TOKEN,
			body: "name=acme",
			headers: { "Content-Type": "application/x-www-form-urlencoded" },
		});
		expect(res.status).toBe(415);
		expectErrorShape(await json(res), "unsupported_media_type");
	});

	it("rejects malformed JSON with 400", async () => {
		const res = await call("POST", "/api/v1/admin/tenants", { token: env.ADMIN_TOKEN, body: '{"name": "acme",' });
		expect(res.status).toBe(400);
		expectErrorShape(await json(res), "bad_request");
	});

	it("names every invalid field in a 400 validation_failed", async () => {
		const { apiKey } = await createTenant();
		const res = await call("PUT", "/api/v1/ratelimit/rules/login", {
			token: apiKey,
			body: { algorithm: "leaky", limit: -1, window_seconds: 0 },
		});
		expect(res.status).toBe(400);
		const body = await json(res);
		expectErrorShape(body, "validation_failed");
		const fields = (body.error as { details: { fields: { path: string }[] } }).details.fields.map((f) => f.path);
		expect(fields).toEqual(expect.arrayContaining(["algorithm", "limit", "window_seconds"]));
	});

	it("turns an unexpected exception into a 500 without leaking its message or stack", async () => {
		// Fault injection: a database that fails the way a driver bug would.
		const failingDb = {
			prepare: () => {
				throw new Error("database password is hunter2");
			},
		};
		const res = await app.request(
			"/api/v1/admin/tenants",
			{
				method: "POST",
				headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}`, "Content-Type": "application/json" },
				body: '{"name":"x"}',
			},
			{ ...env, DB: failingDb },
		);
		expect(res.status).toBe(500);
		const text = await res.text();
		expect(text).not.toContain("hunter2");
		expect(text).not.toContain("at ");
		expectErrorShape(JSON.parse(text) as Record<string, unknown>, "internal_error");
	});
});
