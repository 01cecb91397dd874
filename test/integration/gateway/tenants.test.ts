import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admin, call, createTenant, json } from "../helpers";

describe("admin API", () => {
	it("requires the admin token", async () => {
		expect((await call("POST", "/api/v1/admin/tenants", { body: { name: "x" } })).status).toBe(401);
		const wrong = await call("POST", "/api/v1/admin/tenants", { token: "not-the-token", body: { name: "x" } });
		expect(wrong.status).toBe(401);
		expect(await json(wrong)).toMatchObject({ error: { code: "unauthorized" } });
	});

	it("creates a tenant with a key shown once and stored only as a hash", async () => {
		const res = await admin("POST", "/tenants", { name: "Acme Vending" });
		expect(res.status).toBe(201);
		const body = await json(res);
		expect(body.api_key).toMatch(/^fg_live_[0-9a-f]{40}$/);
		const stored = await env.DB.prepare("SELECT key_hash, prefix FROM api_keys WHERE tenant_id = ?")
			.bind(body.tenant_id)
			.first<{ key_hash: string; prefix: string }>();
		expect(stored?.key_hash).not.toContain(String(body.api_key));
		expect(stored?.key_hash).toMatch(/^[0-9a-f]{64}$/);
		const listed = await json(await admin("GET", `/tenants/${String(body.tenant_id)}/keys`));
		expect(JSON.stringify(listed)).not.toContain(String(body.api_key));
		expect(listed.keys).toEqual([
			expect.objectContaining({ name: "default", prefix: String(body.api_key).slice(0, 12), revoked_at: null }),
		]);
	});

	it("rejects an empty tenant name and unknown fields", async () => {
		expect((await admin("POST", "/tenants", { name: "  " })).status).toBe(400);
		expect((await admin("POST", "/tenants", { name: "a", plan: "gold" })).status).toBe(400);
	});

	it("issues further keys that work, and revokes one without touching the others", async () => {
		const { tenantId, apiKey } = await createTenant();
		const created = await json(await admin("POST", `/tenants/${tenantId}/keys`, { name: "ci" }));
		const second = String(created.api_key);
		expect((await call("GET", "/api/v1/whoami", { token: second })).status).toBe(200);

		const revoked = await admin("DELETE", `/tenants/${tenantId}/keys/${String(created.key_id)}`);
		expect(revoked.status).toBe(200);
		expect((await json(revoked)).revoked_at).toEqual(expect.any(String));

		const res = await call("GET", "/api/v1/whoami", { token: second });
		expect(res.status).toBe(401);
		expect(await json(res)).toMatchObject({
			error: { code: "unauthorized", message: expect.stringContaining("revoked") },
		});
		expect((await call("GET", "/api/v1/whoami", { token: apiKey })).status).toBe(200);
	});

	it("404s a key or tenant that does not exist", async () => {
		const { tenantId } = await createTenant();
		expect((await admin("DELETE", `/tenants/${tenantId}/keys/key_000000000000000000000000`)).status).toBe(404);
		expect((await admin("GET", "/tenants/ten_000000000000000000000000")).status).toBe(404);
		expect((await admin("GET", "/tenants/not-an-id")).status).toBe(400);
	});

	it("pages through tenants with a cursor", async () => {
		for (let i = 0; i < 3; i++) await createTenant(`page-${i}`);
		const first = await json(await admin("GET", "/tenants?limit=2"));
		expect((first.tenants as unknown[]).length).toBe(2);
		const second = await json(await admin("GET", `/tenants?limit=2&cursor=${String(first.next_cursor)}`));
		const ids = [...(first.tenants as { tenant_id: string }[]), ...(second.tenants as { tenant_id: string }[])].map(
			(t) => t.tenant_id,
		);
		expect(new Set(ids).size).toBe(ids.length);
	});
});

describe("tenant API keys", () => {
	it("401s a missing, non-Bearer, malformed or unknown key with the JSON error shape", async () => {
		const cases: [Record<string, string>, string][] = [
			[{}, "Missing credentials"],
			[{ Authorization: "Basic dXNlcjpwYXNz" }, "Malformed Authorization"],
			[{ Authorization: "Bearer sk_test_123" }, "Malformed API key"],
			[{ Authorization: `Bearer fg_live_${"0".repeat(40)}` }, "Unknown API key"],
		];
		for (const [headers, message] of cases) {
			const res = await call("GET", "/api/v1/whoami", { headers });
			expect(res.status).toBe(401);
			expect(await json(res)).toMatchObject({
				error: { code: "unauthorized", message: expect.stringContaining(message) },
			});
		}
	});

	it("identifies the tenant behind each key", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		expect(await json(await call("GET", "/api/v1/whoami", { token: a.apiKey }))).toMatchObject({
			tenant_id: a.tenantId,
		});
		expect(await json(await call("GET", "/api/v1/whoami", { token: b.apiKey }))).toMatchObject({
			tenant_id: b.tenantId,
		});
	});
});
