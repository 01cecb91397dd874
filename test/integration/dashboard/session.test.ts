import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE, admin, call, createTenant, json } from "../helpers";
import { login, withSession } from "./dashboard-helpers";

describe("dashboard sessions", () => {
	it("exchanges an API key for a one-hour HttpOnly SameSite=Strict cookie that authenticates tenant routes", async () => {
		const { apiKey, tenantId } = await createTenant();
		const { cookie, setCookie, status } = await login(apiKey);
		expect(status).toBe(201);
		expect(setCookie).toMatch(/^fg_session=[0-9a-f]{64}; Max-Age=3600; Path=\/; HttpOnly; SameSite=Strict$/);
		expect(setCookie).not.toContain(apiKey);
		const jobs = await withSession("GET", "/api/v1/jobs", cookie);
		expect(jobs.status).toBe(200);
		const who = await json(await withSession("GET", "/api/v1/dashboard/session", cookie));
		expect(who).toMatchObject({ scope: "tenant", tenant_id: tenantId });
		// A tenant session is no operator: admin routes stay closed.
		expect((await withSession("GET", "/api/v1/dead-letters", cookie)).status).toBe(401);
	});

	it("authenticates device routes in gateway mode with a tenant session", async () => {
		const { apiKey } = await createTenant();
		const reg = await call("POST", "/api/v1/devices", {
			token: apiKey,
			body: { device_id: "vm-1", kind: "vending", timezone: "UTC", city: "Oslo" },
		});
		expect(reg.status).toBe(201);
		const { cookie } = await login(apiKey);
		const schedule = await withSession("GET", "/api/v1/devices/vm-1/schedule", cookie);
		expect(schedule.status).toBe(200);
		expect(await json(schedule)).toHaveProperty("next_report_at");
		expect((await withSession("GET", "/api/v1/devices/vm-1/schedule", "fg_session=nope")).status).toBe(401);
	});

	it("marks the cookie Secure over https", async () => {
		const { apiKey } = await createTenant();
		const res = await exports.default.fetch(
			new Request("https://floodgate.test/api/v1/dashboard/session", {
				method: "POST",
				headers: { "Content-Type": "application/json" },
				body: JSON.stringify({ token: apiKey }),
			}),
		);
		expect(res.status).toBe(201);
		expect(res.headers.get("Set-Cookie")).toContain("; Secure");
	});

	it("opens an operator session with the admin token, which reaches admin routes but not tenant ones", async () => {
		const { cookie, status } = await login(env.ADMIN_TOKEN);
		expect(status).toBe(201);
		expect((await withSession("GET", "/api/v1/dead-letters", cookie)).status).toBe(200);
		expect((await withSession("GET", "/api/v1/admin/tenants", cookie)).status).toBe(200);
		expect((await withSession("GET", "/api/v1/jobs", cookie)).status).toBe(401);
	});

	it("refuses an unknown key without setting a cookie", async () => {
		const res = await call("POST", "/api/v1/dashboard/session", { body: { token: `fg_live_${"0".repeat(40)}` } });
		expect(res.status).toBe(401);
		expect(res.headers.get("Set-Cookie")).toBeNull();
		expect((await call("POST", "/api/v1/dashboard/session", { body: { token: "" } })).status).toBe(400);
	});

	it("refuses a cookie-authenticated change from another origin and accepts it from its own", async () => {
		const { apiKey } = await createTenant();
		const { cookie } = await login(apiKey);
		const foreign = await withSession("POST", "/api/v1/echo", cookie, { origin: "https://evil.example", body: {} });
		expect(foreign.status).toBe(403);
		const missing = await withSession("POST", "/api/v1/echo", cookie, { body: {} });
		expect(missing.status).toBe(403);
		const own = await withSession("POST", "/api/v1/echo", cookie, { origin: BASE, body: {} });
		expect(own.status).not.toBe(403);
		expect(own.status).toBeLessThan(300);
	});

	it("ends the session on logout, so the same cookie no longer works", async () => {
		const { apiKey } = await createTenant();
		const { cookie } = await login(apiKey);
		const out = await withSession("DELETE", "/api/v1/dashboard/session", cookie, { origin: BASE });
		expect(out.status).toBe(200);
		expect(await json(out)).toEqual({ closed: true });
		expect(out.headers.get("Set-Cookie")).toMatch(/^fg_session=; Max-Age=0/);
		expect((await withSession("GET", "/api/v1/jobs", cookie)).status).toBe(401);
	});

	it("ends with the key: a revoked API key's session is refused", async () => {
		const { apiKey, tenantId } = await createTenant();
		const { cookie } = await login(apiKey);
		const keys = await json(await admin("GET", `/tenants/${tenantId}/keys`));
		const [key] = keys.keys as { key_id: string }[];
		expect((await admin("DELETE", `/tenants/${tenantId}/keys/${key?.key_id}`)).status).toBe(200);
		expect((await withSession("GET", "/api/v1/jobs", cookie)).status).toBe(401);
	});

	it("refuses an expired session", async () => {
		const { apiKey } = await createTenant();
		const { cookie } = await login(apiKey);
		await env.DB.prepare("UPDATE dashboard_sessions SET expires_at = ?")
			.bind(Date.now() - 1)
			.run();
		const res = await withSession("GET", "/api/v1/jobs", cookie);
		expect(res.status).toBe(401);
		expect(((await json(res)).error as { message: string }).message).toContain("expired");
	});
});
