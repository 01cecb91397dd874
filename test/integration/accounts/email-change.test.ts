import { env } from "cloudflare:workers";
import { TOTP, URI } from "otpauth";
import { describe, expect, it } from "vitest";
import { TAKEN_SUBJECT } from "../../../src/accounts/email-change";
import { noticeSubject } from "../../../src/accounts/notice-text";
import { call, createTenant, sleep } from "../helpers";
import { PASSWORD, authCall, errorCode, logIn, signUp, uniqueName } from "./account-helpers";

type Mail = { recipient: string; subject: string; text: string };
const CONFIRM = "Confirm your new e-mail address";
const CHANGED = noticeSubject("email_changed");

async function mailsTo(apiKey: string, address: string): Promise<Mail[]> {
	const res = await call("GET", "/api/v1/email/sandbox/messages?limit=1000", { token: apiKey });
	expect(res.status).toBe(200);
	return (await res.json<{ messages: Mail[] }>()).messages.filter((m) => m.recipient === address);
}

/** Waits for the `n`th mail with `subject` to an address (sent after the answer). */
async function awaitMail(apiKey: string, address: string, subject: string, n = 1): Promise<Mail> {
	for (let i = 0; i < 200; i++) {
		const found = (await mailsTo(apiKey, address)).filter((m) => m.subject === subject)[n - 1];
		if (found) return found;
		await sleep(50);
	}
	throw new Error(`no mail "${subject}" #${n} to ${address}`);
}

async function codeFrom(apiKey: string, address: string, subject = CONFIRM, n = 1): Promise<string> {
	const token = /fge_[A-Za-z0-9_-]{43}/.exec((await awaitMail(apiKey, address, subject, n)).text)?.[0];
	if (!token) throw new Error("no code in the mail");
	return token;
}

function askChange(token: string, newEmail: string, extra: Record<string, string> = {}, tenant?: string) {
	return authCall("POST", "/api/v1/auth/email", {
		token,
		body: { new_email: newEmail, password: PASSWORD, ...extra },
		...(tenant ? { tenant } : {}),
	});
}

function confirm(tenantId: string, token: string) {
	return authCall("POST", "/api/v1/auth/email/confirm", { tenant: tenantId, body: { token } });
}

async function me(accessToken: string): Promise<{ email: string; email_verified: boolean }> {
	const res = await authCall("GET", "/api/v1/auth/me", { token: accessToken });
	expect(res.status).toBe(200);
	return res.json();
}

async function changeTokens(userId: string) {
	const { results } = await env.DB.prepare(
		"SELECT token_hash, email, used_at, session_id FROM account_email_tokens WHERE user_id = ? AND purpose = 'email_change'",
	)
		.bind(userId)
		.all<{ token_hash: string; email: string; used_at: number | null; session_id: string | null }>();
	return results;
}

const newAddress = () => `new-${uniqueName()}@example.org`;

describe("e-mail address change", () => {
	it("confirms from the new address, swaps it, ends other sessions and codes, and tells the old address", async () => {
		const { tenantId, apiKey } = await createTenant();
		const u = await signUp(tenantId);
		const other = await (
			await logIn(tenantId, u.username)
		).json<{ tokens: { refresh_token: string; session_id: string } }>();
		// A reset code mailed to the old address before the change must die with it.
		await authCall("POST", "/api/v1/auth/password/forgot", { tenant: tenantId, body: { email: u.email } });
		const resetCode = await codeFrom(apiKey, u.email, "Reset your password");
		const target = newAddress();

		const res = await askChange(u.tokens.access_token, `  ${target.toUpperCase()} `);
		expect(res.status).toBe(202);
		expect(await res.json()).toEqual({ accepted: true });
		const token = await codeFrom(apiKey, target);
		const [row] = await changeTokens(u.userId);
		expect(row).toMatchObject({ email: target, used_at: null, session_id: u.tokens.session_id });
		expect(row?.token_hash).toMatch(/^[0-9a-f]{64}$/);
		expect(row?.token_hash).not.toContain(token.slice(4));
		expect((await me(u.tokens.access_token)).email).toBe(u.email);

		const done = await confirm(tenantId, token);
		expect(done.status).toBe(200);
		expect(await done.json()).toEqual({ changed: true, email: target, revoked: [other.tokens.session_id] });
		expect(await me(u.tokens.access_token)).toMatchObject({ email: target, email_verified: true });
		const refresh = await authCall("POST", "/api/v1/auth/refresh", {
			body: { refresh_token: other.tokens.refresh_token },
		});
		expect(refresh.status).toBe(401);

		const notice = await awaitMail(apiKey, u.email, CHANGED);
		expect(notice.text).toContain("changed from this address to n***@example.org");
		expect(notice.text).toContain("If it was not you");
		expect(notice.text).not.toContain(target);
		expect(notice.text).not.toContain(token);
		await sleep(300);
		expect((await mailsTo(apiKey, target)).map((m) => m.subject)).toEqual([CONFIRM]);

		expect((await logIn(tenantId, target)).status).toBe(200);
		expect((await logIn(tenantId, u.email)).status).toBe(401);
		const reused = await confirm(tenantId, token);
		expect(reused.status).toBe(400);
		expect(await errorCode(reused)).toBe("invalid_token");
		const reset = await authCall("POST", "/api/v1/auth/password/reset", {
			tenant: tenantId,
			body: { token: resetCode, new_password: "a brand new passphrase here" },
		});
		expect(await errorCode(reset)).toBe("invalid_token");
	});

	it("refuses a wrong password with 401 and changes and sends nothing", async () => {
		const { tenantId, apiKey } = await createTenant();
		const u = await signUp(tenantId);
		const target = newAddress();
		const res = await askChange(u.tokens.access_token, target, { password: "not my password at all" });
		expect(res.status).toBe(401);
		expect(await errorCode(res)).toBe("invalid_credentials");
		const same = await askChange(u.tokens.access_token, u.email.toUpperCase());
		expect(await errorCode(same)).toBe("same_email");
		const bad = await askChange(u.tokens.access_token, "not an address");
		expect(await errorCode(bad)).toBe("validation_failed");
		await sleep(300);
		expect(await mailsTo(apiKey, target)).toEqual([]);
		expect(await changeTokens(u.userId)).toEqual([]);
		expect((await me(u.tokens.access_token)).email).toBe(u.email);
	});

	it("needs a TOTP or recovery code when TOTP is on", async () => {
		const { tenantId, apiKey } = await createTenant();
		const u = await signUp(tenantId);
		const token = u.tokens.access_token;
		const start = await authCall("POST", "/api/v1/auth/totp/enroll", { token, body: { password: PASSWORD } });
		const app = URI.parse((await start.json<{ otpauth_uri: string }>()).otpauth_uri);
		if (!(app instanceof TOTP)) throw new Error("not a TOTP URI");
		const on = await authCall("POST", "/api/v1/auth/totp/confirm", { token, body: { code: app.generate() } });
		const { recovery_codes: codes } = await on.json<{ recovery_codes: string[] }>();
		const target = newAddress();

		expect(await errorCode(await askChange(token, target))).toBe("totp_required");
		const wrong = String((Number(app.generate()) + 1) % 1_000_000).padStart(6, "0");
		expect(await errorCode(await askChange(token, target, { totp_code: wrong }))).toBe("invalid_totp");
		await sleep(300);
		expect(await mailsTo(apiKey, target)).toEqual([]);

		const next = app.generate({ timestamp: Date.now() + 30_000 });
		expect((await askChange(token, target, { totp_code: next })).status).toBe(202);
		await codeFrom(apiKey, target);
		expect((await askChange(token, target, { recovery_code: codes[0] ?? "" })).status).toBe(202);
		// The newer request voids the older code: only the second one works.
		const second = await codeFrom(apiKey, target, CONFIRM, 2);
		expect((await confirm(tenantId, await codeFrom(apiKey, target))).status).toBe(400);
		expect((await confirm(tenantId, second)).status).toBe(200);
	});

	it("answers the same for an address another account has, and mails it a notice instead of a code", async () => {
		const { tenantId, apiKey } = await createTenant();
		const u = await signUp(tenantId);
		const owner = await signUp(tenantId);
		const free = newAddress();
		const taken = await askChange(u.tokens.access_token, owner.email);
		const open = await askChange(u.tokens.access_token, free);
		expect([taken.status, open.status]).toEqual([202, 202]);
		expect(await taken.json()).toEqual(await open.json());
		const notice = await awaitMail(apiKey, owner.email, TAKEN_SUBJECT);
		expect(notice.text).not.toMatch(/fge_/);
		expect(notice.text).not.toContain(u.username);
		await codeFrom(apiKey, free);
		expect((await changeTokens(u.userId)).map((t) => t.email)).toEqual([free]);
	});

	it("answers 409 when a sign-up took the address before the confirmation, and writes nothing", async () => {
		const { tenantId, apiKey } = await createTenant();
		const u = await signUp(tenantId);
		const other = await (await logIn(tenantId, u.username)).json<{ tokens: { refresh_token: string } }>();
		const target = newAddress();
		expect((await askChange(u.tokens.access_token, target)).status).toBe(202);
		const token = await codeFrom(apiKey, target);
		const rival = await signUp(tenantId, PASSWORD, { email: target });

		const res = await confirm(tenantId, token);
		expect(res.status).toBe(409);
		expect(await errorCode(res)).toBe("email_taken");
		expect((await me(u.tokens.access_token)).email).toBe(u.email);
		expect((await me(rival.tokens.access_token)).email).toBe(target);
		expect((await changeTokens(u.userId))[0]?.used_at).toBeNull();
		const refresh = await authCall("POST", "/api/v1/auth/refresh", {
			body: { refresh_token: other.tokens.refresh_token },
		});
		expect(refresh.status).toBe(200);
		await sleep(300);
		expect((await mailsTo(apiKey, u.email)).filter((m) => m.subject === CHANGED)).toEqual([]);
	});

	it("lets exactly one of a confirmation and a simultaneous sign-up have the address", async () => {
		const { tenantId, apiKey } = await createTenant();
		const u = await signUp(tenantId);
		const target = newAddress();
		expect((await askChange(u.tokens.access_token, target)).status).toBe(202);
		const token = await codeFrom(apiKey, target);
		const [swap, join] = await Promise.all([
			confirm(tenantId, token),
			authCall("POST", "/api/v1/auth/signup", {
				tenant: tenantId,
				body: { username: uniqueName(), email: target, password: PASSWORD },
			}),
		]);
		// Whichever landed first wins; the other gets its 409 and wrote nothing.
		expect([swap.status, join.status]).toEqual(swap.status === 200 ? [200, 409] : [409, 201]);
		const { results } = await env.DB.prepare("SELECT id FROM account_users WHERE tenant_id = ? AND email = ?")
			.bind(tenantId, target)
			.all<{ id: string }>();
		expect(results.length).toBe(1);
		expect((await me(u.tokens.access_token)).email).toBe(swap.status === 200 ? target : u.email);
	});

	it("keeps tenants apart: another tenant's header refuses the code and the access token", async () => {
		const a = await createTenant();
		const b = await createTenant();
		const u = await signUp(a.tenantId);
		const target = newAddress();
		const cross = await askChange(u.tokens.access_token, target, {}, b.tenantId);
		expect(cross.status).toBe(401);
		expect(await errorCode(cross)).toBe("invalid_token");
		expect((await askChange(u.tokens.access_token, target, {}, a.tenantId)).status).toBe(202);
		const token = await codeFrom(a.apiKey, target);
		const wrongTenant = await confirm(b.tenantId, token);
		expect(wrongTenant.status).toBe(400);
		expect(await errorCode(wrongTenant)).toBe("invalid_token");
		expect((await me(u.tokens.access_token)).email).toBe(u.email);
		expect((await confirm(a.tenantId, token)).status).toBe(200);
	});

	it("dies with the session that asked, and after its hour", async () => {
		const { tenantId, apiKey } = await createTenant();
		const u = await signUp(tenantId);
		const target = newAddress();
		expect((await askChange(u.tokens.access_token, target)).status).toBe(202);
		const first = await codeFrom(apiKey, target);
		const out = await authCall("POST", "/api/v1/auth/logout", { token: u.tokens.access_token, body: {} });
		expect(out.status).toBe(200);
		expect(await errorCode(await confirm(tenantId, first))).toBe("invalid_token");

		const again = await (await logIn(tenantId, u.username)).json<{ tokens: { access_token: string } }>();
		expect((await askChange(again.tokens.access_token, target)).status).toBe(202);
		const second = await codeFrom(apiKey, target, CONFIRM, 2);
		await env.DB.prepare("UPDATE account_email_tokens SET expires_at = ? WHERE user_id = ? AND used_at IS NULL")
			.bind(Date.now() - 1, u.userId)
			.run();
		expect(await errorCode(await confirm(tenantId, second))).toBe("invalid_token");
		expect((await me(again.tokens.access_token)).email).toBe(u.email);
	});

	it("sends at most 3 codes per user per 15 minutes", async () => {
		const { tenantId } = await createTenant();
		const u = await signUp(tenantId);
		for (let i = 0; i < 3; i++) expect((await askChange(u.tokens.access_token, newAddress())).status).toBe(202);
		const over = await askChange(u.tokens.access_token, newAddress());
		expect(over.status).toBe(429);
		expect(over.headers.get("Retry-After")).toMatch(/^\d+$/);
	});
});
