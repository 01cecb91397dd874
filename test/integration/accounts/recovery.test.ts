import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, createTenant, sleep } from "../helpers";
import { authCall, errorCode, logIn, signUp } from "./account-helpers";

const NEW_PASSWORD = "a brand new passphrase here";
type Mail = { recipient: string; subject: string; text: string };

/** The sandbox provider's messages of a tenant to one address, oldest first. */
async function mailsTo(apiKey: string, address: string): Promise<Mail[]> {
	const res = await call("GET", "/api/v1/email/sandbox/messages?limit=1000", { token: apiKey });
	expect(res.status).toBe(200);
	return (await res.json<{ messages: Mail[] }>()).messages.filter((m) => m.recipient === address);
}

/** Waits for the `n`th mail with `subject` to an address (sent after the answer) and returns its code. */
async function code(apiKey: string, address: string, subject: string, n = 1): Promise<string> {
	for (let i = 0; i < 100; i++) {
		const mails = (await mailsTo(apiKey, address)).filter((m) => m.subject === subject);
		const text = mails[n - 1]?.text;
		const token = text ? /fge_[A-Za-z0-9_-]{43}/.exec(text)?.[0] : undefined;
		if (token) return token;
		await sleep(50);
	}
	throw new Error(`no mail "${subject}" #${n} to ${address}`);
}

const RESET = "Reset your password";
const VERIFY = "Confirm your e-mail address";

function forgot(tenantId: string, email: string, ip?: string) {
	return authCall("POST", "/api/v1/auth/password/forgot", { tenant: tenantId, body: { email }, ...(ip ? { ip } : {}) });
}

function reset(tenantId: string, token: string, password = NEW_PASSWORD) {
	return authCall("POST", "/api/v1/auth/password/reset", { tenant: tenantId, body: { token, new_password: password } });
}

describe("password reset", () => {
	it("mails a single-use code, sets the new password with it and ends every session", async () => {
		const { tenantId, apiKey } = await createTenant();
		const u = await signUp(tenantId);
		const known = await forgot(tenantId, u.email.toUpperCase());
		const unknown = await forgot(tenantId, "nobody-here@example.com");
		expect([known.status, unknown.status]).toEqual([202, 202]);
		expect(await known.json()).toEqual(await unknown.json());
		const token = await code(apiKey, u.email, RESET);
		expect(await mailsTo(apiKey, "nobody-here@example.com")).toEqual([]);
		const row = await env.DB.prepare("SELECT token_hash FROM account_email_tokens WHERE user_id = ? AND purpose = ?")
			.bind(u.userId, "password_reset")
			.first<{ token_hash: string }>();
		expect(row?.token_hash).toMatch(/^[0-9a-f]{64}$/);
		expect(row?.token_hash).not.toContain(token.slice(4));

		const res = await reset(tenantId, token);
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ reset: true, revoked: [u.tokens.session_id] });
		const refresh = await authCall("POST", "/api/v1/auth/refresh", { body: { refresh_token: u.tokens.refresh_token } });
		expect(refresh.status).toBe(401);
		expect((await authCall("GET", "/api/v1/auth/me", { token: u.tokens.access_token })).status).toBe(401);
		expect((await logIn(tenantId, u.username)).status).toBe(401);
		const again = await authCall("POST", "/api/v1/auth/login", {
			tenant: tenantId,
			body: { login: u.username, password: NEW_PASSWORD },
		});
		expect(again.status).toBe(200);
		// Reading the mail proved the address.
		expect((await again.json<{ user: { email_verified: boolean } }>()).user.email_verified).toBe(true);

		const reused = await reset(tenantId, token, "yet another passphrase 42");
		expect(reused.status).toBe(400);
		expect(await errorCode(reused)).toBe("invalid_token");
	});

	it("refuses an expired code, another tenant's code, and an older code once a newer one was sent", async () => {
		const { tenantId, apiKey } = await createTenant();
		const other = await createTenant();
		const u = await signUp(tenantId);
		await forgot(tenantId, u.email);
		const first = await code(apiKey, u.email, RESET);
		expect(await errorCode(await reset(other.tenantId, first))).toBe("invalid_token");
		await forgot(tenantId, u.email);
		const second = await code(apiKey, u.email, RESET, 2);
		expect(await errorCode(await reset(tenantId, first))).toBe("invalid_token");
		await env.DB.prepare("UPDATE account_email_tokens SET expires_at = ? WHERE user_id = ? AND used_at IS NULL")
			.bind(Date.now() - 1, u.userId)
			.run();
		expect(await errorCode(await reset(tenantId, second))).toBe("invalid_token");
		expect((await logIn(tenantId, u.username)).status).toBe(200);
	});

	it("keeps the code usable when the new password is refused", async () => {
		const { tenantId, apiKey } = await createTenant();
		const u = await signUp(tenantId);
		await forgot(tenantId, u.email);
		const token = await code(apiKey, u.email, RESET);
		const weak = await reset(tenantId, token, "short");
		expect(await errorCode(weak)).toBe("weak_password");
		expect((await reset(tenantId, token)).status).toBe(200);
	});

	it("throttles requests per address, known or not, with the same 429", async () => {
		const { tenantId } = await createTenant();
		const u = await signUp(tenantId);
		for (const address of [u.email, "ghost@example.com"]) {
			const statuses = [];
			for (let i = 0; i < 4; i++) statuses.push((await forgot(tenantId, address)).status);
			expect(statuses).toEqual([202, 202, 202, 429]);
		}
		const ip = "10.250.0.9";
		const perIp = [];
		for (let i = 0; i < 11; i++) perIp.push((await forgot(tenantId, `someone${i}@example.com`, ip)).status);
		expect(perIp.slice(0, 10).every((s) => s === 202)).toBe(true);
		expect(perIp[10]).toBe(429);
	});

	it("rejects a malformed code and a missing tenant with 400", async () => {
		const { tenantId } = await createTenant();
		expect(await errorCode(await reset(tenantId, "fge_short"))).toBe("validation_failed");
		const noTenant = await authCall("POST", "/api/v1/auth/password/forgot", { body: { email: "a@example.com" } });
		expect(noTenant.status).toBe(400);
	});
});

describe("e-mail verification", () => {
	it("mails a code at sign-up that verifies the address once", async () => {
		const { tenantId, apiKey } = await createTenant();
		const u = await signUp(tenantId);
		const me = async () =>
			(await authCall("GET", "/api/v1/auth/me", { token: u.tokens.access_token })).json<{ email_verified: boolean }>();
		expect((await me()).email_verified).toBe(false);
		const token = await code(apiKey, u.email, VERIFY);
		const verify = (tenant: string) => authCall("POST", "/api/v1/auth/email/verify", { tenant, body: { token } });
		const other = await createTenant();
		expect(await errorCode(await verify(other.tenantId))).toBe("invalid_token");
		expect((await verify(tenantId)).status).toBe(200);
		expect((await me()).email_verified).toBe(true);
		expect(await errorCode(await verify(tenantId))).toBe("invalid_token");
		const resend = await authCall("POST", "/api/v1/auth/email/verify/resend", { token: u.tokens.access_token });
		expect(resend.status).toBe(409);
	});

	it("resends a code that replaces the first, throttled per user; an expired code is refused", async () => {
		const { tenantId, apiKey } = await createTenant();
		const u = await signUp(tenantId);
		const first = await code(apiKey, u.email, VERIFY);
		const resend = () => authCall("POST", "/api/v1/auth/email/verify/resend", { token: u.tokens.access_token });
		expect((await resend()).status).toBe(202);
		const second = await code(apiKey, u.email, VERIFY, 2);
		const verify = (token: string) =>
			authCall("POST", "/api/v1/auth/email/verify", { tenant: tenantId, body: { token } });
		expect(await errorCode(await verify(first))).toBe("invalid_token");
		await env.DB.prepare("UPDATE account_email_tokens SET expires_at = ? WHERE token_hash IS NOT NULL AND user_id = ?")
			.bind(Date.now() - 1, u.userId)
			.run();
		expect(await errorCode(await verify(second))).toBe("invalid_token");
		expect([(await resend()).status, (await resend()).status, (await resend()).status]).toEqual([202, 202, 429]);
		expect((await call("POST", "/api/v1/auth/email/verify/resend", {})).status).toBe(401);
	});
});
