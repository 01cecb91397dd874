import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { hashPassword } from "../../../src/accounts/password";
import { createTenant } from "../helpers";
import { PASSWORD, authCall, errorCode, logIn, randomIp, signUp, uniqueName } from "./account-helpers";
import type { Tokens } from "./account-helpers";

describe("signing up", () => {
	it("creates the user in the named tenant and logs it in", async () => {
		const { tenantId } = await createTenant();
		const { username, tokens } = await signUp(tenantId);
		expect(tokens.access_token.split(".")).toHaveLength(3);
		expect(tokens.refresh_token).toMatch(/^fgr_/);
		expect(tokens.expires_in).toBe(600);
		const me = await authCall("GET", "/api/v1/auth/me", { token: tokens.access_token });
		expect(me.status).toBe(200);
		expect(await me.json()).toMatchObject({ username });
	});

	it("stores an Argon2id PHC string with OWASP's minimum parameters, never the password", async () => {
		const { tenantId } = await createTenant();
		const { userId } = await signUp(tenantId);
		const row = await env.DB.prepare("SELECT password_hash FROM account_users WHERE id = ?")
			.bind(userId)
			.first<{ password_hash: string }>();
		expect(row?.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
		expect(row?.password_hash).not.toContain(PASSWORD);
	});

	it("refuses a taken username or e-mail in the same tenant (any case) but not in another tenant", async () => {
		const a = await createTenant();
		const b = await createTenant();
		const { username, email } = await signUp(a.tenantId);
		const again = (tenant: string, body: Record<string, string>) =>
			authCall("POST", "/api/v1/auth/signup", { tenant, body: { password: PASSWORD, ...body } });
		const sameName = await again(a.tenantId, { username: username.toUpperCase(), email: `x${email}` });
		expect(sameName.status).toBe(409);
		expect(await errorCode(sameName)).toBe("account_exists");
		const sameEmail = await again(a.tenantId, { username: uniqueName(), email: email.toUpperCase() });
		expect(sameEmail.status).toBe(409);
		expect((await again(b.tenantId, { username, email })).status).toBe(201);
	});

	it("validates username, e-mail and password, and requires a known tenant", async () => {
		const { tenantId } = await createTenant();
		const cases: [Record<string, string>, string, number][] = [
			[{ username: "ab" }, "validation_failed", 400],
			[{ username: "bad name!" }, "validation_failed", 400],
			[{ email: "not-an-address" }, "validation_failed", 400],
			[{ password: "short1" }, "weak_password", 400],
			[{ password: "x".repeat(129) }, "weak_password", 400],
			[{ password: "password123" }, "weak_password", 400],
		];
		for (const [override, code, status] of cases) {
			const name = uniqueName();
			const body = { username: name, email: `${name}@example.com`, password: PASSWORD, ...override };
			const res = await authCall("POST", "/api/v1/auth/signup", { tenant: tenantId, body });
			expect(res.status, JSON.stringify(override)).toBe(status);
			expect(await errorCode(res)).toBe(code);
		}
		const body = { username: uniqueName(), email: "a@example.com", password: PASSWORD };
		expect((await authCall("POST", "/api/v1/auth/signup", { body })).status).toBe(400);
		const unknown = await authCall("POST", "/api/v1/auth/signup", { tenant: `ten_${"0".repeat(24)}`, body });
		expect(unknown.status).toBe(400);
		expect(await errorCode(unknown)).toBe("unknown_tenant");
	});
});

describe("logging in", () => {
	it("accepts the username or the e-mail address, in any case", async () => {
		const { tenantId } = await createTenant();
		const { username, email } = await signUp(tenantId);
		for (const login of [username, email.toUpperCase()]) {
			const res = await logIn(tenantId, login);
			expect(res.status).toBe(200);
			const body = await res.json<{ tokens: Tokens }>();
			expect((await authCall("GET", "/api/v1/auth/me", { token: body.tokens.access_token })).status).toBe(200);
		}
	});

	it("answers an unknown account and a wrong password identically, after similar work", async () => {
		const { tenantId } = await createTenant();
		const { username } = await signUp(tenantId);
		const attempt = async (login: string) => {
			const started = performance.now();
			const res = await authCall("POST", "/api/v1/auth/login", {
				tenant: tenantId,
				body: { login, password: "wrong password here" },
			});
			const ms = performance.now() - started;
			const body = await res.json<{ error: unknown }>();
			return { status: res.status, error: body.error, ms };
		};
		const wrong = [await attempt(username), await attempt(username), await attempt(username)];
		const unknown = [await attempt(uniqueName()), await attempt(uniqueName()), await attempt(uniqueName())];
		expect(unknown.map((u) => [u.status, u.error])).toEqual(wrong.map((w) => [w.status, w.error]));
		expect(wrong[0]?.status).toBe(401);
		expect(wrong[0]?.error).toEqual({ code: "invalid_credentials", message: "Invalid login or password." });
		// Without the decoy hash an unknown account would answer in a few ms instead of ~a hash's time.
		const median = (xs: { ms: number }[]) => xs.map((x) => x.ms).sort((a, b) => a - b)[1] ?? 0;
		expect(median(unknown)).toBeGreaterThan(median(wrong) * 0.5);
	});

	it("does not let a user of one tenant log in to another", async () => {
		const a = await createTenant();
		const b = await createTenant();
		const { username } = await signUp(a.tenantId);
		const res = await logIn(b.tenantId, username);
		expect(res.status).toBe(401);
		expect(await errorCode(res)).toBe("invalid_credentials");
	});

	it("rehashes a password stored with weaker parameters at the next login", async () => {
		const { tenantId } = await createTenant();
		const { userId, username } = await signUp(tenantId);
		const weak = hashPassword(PASSWORD, { m: 1024, t: 1, p: 1 });
		await env.DB.prepare("UPDATE account_users SET password_hash = ? WHERE id = ?").bind(weak, userId).run();
		expect((await logIn(tenantId, username)).status).toBe(200);
		const row = await env.DB.prepare("SELECT password_hash FROM account_users WHERE id = ?")
			.bind(userId)
			.first<{ password_hash: string }>();
		expect(row?.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
		expect((await logIn(tenantId, username)).status).toBe(200);
	});

	it("throttles one account after 10 attempts, even with the right password, whatever the IP", async () => {
		const { tenantId } = await createTenant();
		const { username } = await signUp(tenantId);
		for (let i = 0; i < 10; i++) {
			const res = await authCall("POST", "/api/v1/auth/login", {
				tenant: tenantId,
				body: { login: username, password: "wrong password here" },
			});
			expect(res.status).toBe(401);
		}
		const blocked = await logIn(tenantId, username);
		expect(blocked.status).toBe(429);
		expect(await errorCode(blocked)).toBe("rate_limited");
		expect(Number(blocked.headers.get("Retry-After"))).toBeGreaterThan(0);
	}, 60_000);

	it("throttles one IP after 30 attempts across accounts and tenants", async () => {
		const { tenantId } = await createTenant();
		const ip = randomIp();
		// Probing unknown tenants counts too (and costs no hash, which keeps this test quick).
		const nowhere = `ten_${"0".repeat(24)}`;
		for (let i = 0; i < 29; i++) expect((await logIn(nowhere, uniqueName(), {}, ip)).status).toBe(400);
		expect((await logIn(tenantId, uniqueName(), {}, ip)).status).toBe(401);
		const blocked = await logIn(tenantId, uniqueName(), {}, ip);
		expect(blocked.status).toBe(429);
		expect((await logIn(tenantId, uniqueName(), {}, randomIp())).status).toBe(401);
	}, 60_000);
});

describe("changing the password", () => {
	it("needs the current password, applies the rules, and ends every other session", async () => {
		const { tenantId } = await createTenant();
		const { username, tokens } = await signUp(tenantId);
		const other = (await (await logIn(tenantId, username)).json<{ tokens: Tokens }>()).tokens;
		const change = (body: Record<string, string>) =>
			authCall("POST", "/api/v1/auth/password", { token: tokens.access_token, body });
		const wrong = await change({ current_password: "not my password", new_password: "a brand new secret" });
		expect(await errorCode(wrong)).toBe("invalid_credentials");
		const weak = await change({ current_password: PASSWORD, new_password: "short" });
		expect(await errorCode(weak)).toBe("weak_password");
		const ok = await change({ current_password: PASSWORD, new_password: "a brand new secret" });
		expect(ok.status).toBe(200);
		expect(await ok.json()).toEqual({ changed: true, revoked: [other.session_id] });
		expect((await authCall("GET", "/api/v1/auth/me", { token: other.access_token })).status).toBe(401);
		expect((await authCall("GET", "/api/v1/auth/me", { token: tokens.access_token })).status).toBe(200);
		expect((await logIn(tenantId, username)).status).toBe(401);
		const fresh = await authCall("POST", "/api/v1/auth/login", {
			tenant: tenantId,
			body: { login: username, password: "a brand new secret" },
		});
		expect(fresh.status).toBe(200);
	});
});
