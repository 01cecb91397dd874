import { env } from "cloudflare:workers";
import { TOTP, URI } from "otpauth";
import { describe, expect, it } from "vitest";
import { NOTICE_KINDS, noticeSubject } from "../../../src/accounts/notice-text";
import type { NoticeKind } from "../../../src/accounts/notice-text";
import { call, createTenant, sleep } from "../helpers";
import type { Tokens } from "./account-helpers";
import { PASSWORD, authCall, errorCode, randomIp, signUp } from "./account-helpers";

type Mail = { recipient: string; subject: string; text: string };
const NEW_PASSWORD = "a brand new passphrase here";
const AGENT = "NoticeTest/1.0 (X11; Linux)";
const SUBJECTS = new Set<string>(NOTICE_KINDS.map(noticeSubject));

async function mailsTo(apiKey: string, address: string): Promise<Mail[]> {
	const res = await call("GET", "/api/v1/email/sandbox/messages?limit=1000", { token: apiKey });
	expect(res.status).toBe(200);
	return (await res.json<{ messages: Mail[] }>()).messages.filter((m) => m.recipient === address);
}

/** Every security notice mailed to the address (other mails, such as codes, left out). */
async function noticesTo(apiKey: string, address: string): Promise<Mail[]> {
	return (await mailsTo(apiKey, address)).filter((m) => SUBJECTS.has(m.subject));
}

/** The notices stored for the user by the notifications feature, as template keys. */
async function storedNotices(tenantId: string, userId: string): Promise<string[]> {
	const { results } = await env.DB.prepare(
		"SELECT template_key FROM notifications WHERE tenant_id = ? AND user_id = ? AND category = 'account_security' ORDER BY created_at",
	)
		.bind(tenantId, userId)
		.all<{ template_key: string }>();
	return results.map((r) => r.template_key);
}

/** Waits for the notice of `kind` (mailed by the notifications queue after the answer) and returns it. */
async function awaitNotice(apiKey: string, address: string, kind: NoticeKind): Promise<Mail> {
	for (let i = 0; i < 200; i++) {
		const found = (await noticesTo(apiKey, address)).find((m) => m.subject === noticeSubject(kind));
		if (found) return found;
		await sleep(50);
	}
	throw new Error(`no ${kind} notice to ${address}`);
}

/** After the awaited notice, the address got exactly that one notice and the user has one stored. */
async function expectOnlyNotice(
	apiKey: string,
	tenantId: string,
	user: { userId: string; email: string },
	kind: NoticeKind,
) {
	const mail = await awaitNotice(apiKey, user.email, kind);
	await sleep(300);
	expect((await noticesTo(apiKey, user.email)).map((m) => m.subject)).toEqual([noticeSubject(kind)]);
	expect(await storedNotices(tenantId, user.userId)).toEqual([`platform.${kind}`]);
	return mail;
}

async function codeFrom(apiKey: string, address: string, subject: string): Promise<string> {
	for (let i = 0; i < 100; i++) {
		const text = (await mailsTo(apiKey, address)).find((m) => m.subject === subject)?.text;
		const token = text ? /fge_[A-Za-z0-9_-]{43}/.exec(text)?.[0] : undefined;
		if (token) return token;
		await sleep(50);
	}
	throw new Error(`no "${subject}" mail to ${address}`);
}

function changePassword(token: string, current: string, ip: string) {
	return authCall("POST", "/api/v1/auth/password", {
		token,
		ip,
		userAgent: AGENT,
		body: { current_password: current, new_password: NEW_PASSWORD },
	});
}

describe("security notices", () => {
	it("mails one notice after a password change (what, when, from where, what to do; no secret)", async () => {
		const a = await createTenant();
		const b = await createTenant();
		const ip = randomIp();
		const u = await signUp(a.tenantId, PASSWORD, { ip, userAgent: AGENT });
		// The same address registered at another tenant must hear nothing.
		const twin = await signUp(b.tenantId, PASSWORD, { email: u.email });
		// A refused change (wrong current password) first: it must send nothing.
		const wrong = await changePassword(u.tokens.access_token, "not my password at all", ip);
		expect(await errorCode(wrong)).toBe("invalid_credentials");
		const started = Date.now();
		const ok = await changePassword(u.tokens.access_token, PASSWORD, ip);
		expect(ok.status).toBe(200);

		const mail = await expectOnlyNotice(a.apiKey, a.tenantId, u, "password_changed");
		expect(mail.text).toContain(`Hello ${u.username},`);
		expect(mail.text).toContain("The password of your account was changed.");
		expect(mail.text).toContain(`From: IP address ${ip}`);
		expect(mail.text).toContain(`Device: ${AGENT}`);
		const when = /When: (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC/.exec(mail.text)?.[1] ?? "";
		expect(Math.abs(Date.parse(`${when.replace(" ", "T")}Z`) - started)).toBeLessThan(60_000);
		expect(mail.text).toContain("If it was not you");
		for (const secret of [PASSWORD, NEW_PASSWORD, u.tokens.access_token, u.tokens.refresh_token])
			expect(mail.text).not.toContain(secret);
		expect(await noticesTo(b.apiKey, twin.email)).toEqual([]);
		expect(await storedNotices(b.tenantId, twin.userId)).toEqual([]);
	});

	it("sends nothing for a refused change", async () => {
		const { tenantId, apiKey } = await createTenant();
		const ip = randomIp();
		const u = await signUp(tenantId, PASSWORD, { ip });
		expect((await changePassword(u.tokens.access_token, "not my password at all", ip)).status).toBe(401);
		const weak = await authCall("POST", "/api/v1/auth/password", {
			token: u.tokens.access_token,
			ip,
			body: { current_password: PASSWORD, new_password: "short" },
		});
		expect(await errorCode(weak)).toBe("weak_password");
		const enroll = await authCall("POST", "/api/v1/auth/totp/enroll", {
			token: u.tokens.access_token,
			ip,
			body: { password: "wrong password!" },
		});
		expect(enroll.status).toBe(401);
		await sleep(1_500);
		expect(await noticesTo(apiKey, u.email)).toEqual([]);
		expect(await storedNotices(tenantId, u.userId)).toEqual([]);
	});

	it("ends the other sessions on a password change and keeps the current one", async () => {
		const { tenantId, apiKey } = await createTenant();
		const ip = randomIp();
		const u = await signUp(tenantId, PASSWORD, { ip, userAgent: AGENT });
		// Same address and device as the sign-up: no new-sign-in notice.
		const second = await authCall("POST", "/api/v1/auth/login", {
			tenant: tenantId,
			ip,
			userAgent: AGENT,
			body: { login: u.username, password: PASSWORD },
		});
		const other = (await second.json<{ tokens: Tokens }>()).tokens;
		const ok = await changePassword(u.tokens.access_token, PASSWORD, ip);
		expect(await ok.json()).toEqual({ changed: true, revoked: [other.session_id] });
		const refresh = (token: string) => authCall("POST", "/api/v1/auth/refresh", { body: { refresh_token: token } });
		expect((await refresh(other.refresh_token)).status).toBe(401);
		expect((await authCall("GET", "/api/v1/auth/me", { token: other.access_token })).status).toBe(401);
		expect((await authCall("GET", "/api/v1/auth/me", { token: u.tokens.access_token })).status).toBe(200);
		expect((await refresh(u.tokens.refresh_token)).status).toBe(200);
		const sessions = await authCall("GET", "/api/v1/auth/sessions", { token: u.tokens.access_token });
		const listed = await sessions.json<{ sessions: { id: string }[] }>();
		expect(listed.sessions.map((s) => s.id)).toEqual([u.tokens.session_id]);
		await expectOnlyNotice(apiKey, tenantId, u, "password_changed");
	});

	it("mails one notice after a password reset, without the reset code", async () => {
		const { tenantId, apiKey } = await createTenant();
		const u = await signUp(tenantId);
		const forgot = await authCall("POST", "/api/v1/auth/password/forgot", {
			tenant: tenantId,
			body: { email: u.email },
		});
		expect(forgot.status).toBe(202);
		const token = await codeFrom(apiKey, u.email, "Reset your password");
		const ip = randomIp();
		const reset = await authCall("POST", "/api/v1/auth/password/reset", {
			tenant: tenantId,
			ip,
			userAgent: AGENT,
			body: { token, new_password: NEW_PASSWORD },
		});
		expect(reset.status).toBe(200);
		const mail = await expectOnlyNotice(apiKey, tenantId, u, "password_reset");
		expect(mail.text).toContain(`From: IP address ${ip}`);
		expect(mail.text).toContain(`Device: ${AGENT}`);
		expect(mail.text).not.toContain(token);
		expect(mail.text).not.toContain(NEW_PASSWORD);
	});

	it("mails one notice when the address is confirmed", async () => {
		const { tenantId, apiKey } = await createTenant();
		const u = await signUp(tenantId);
		const token = await codeFrom(apiKey, u.email, "Confirm your e-mail address");
		const res = await authCall("POST", "/api/v1/auth/email/verify", { tenant: tenantId, body: { token } });
		expect(res.status).toBe(200);
		const mail = await expectOnlyNotice(apiKey, tenantId, u, "email_verified");
		expect(mail.text).not.toContain(token);
		expect(mail.text).toContain("Device: unknown");
	});

	it("mails one notice when TOTP is turned on and one when it is turned off, never a secret", async () => {
		const { tenantId, apiKey } = await createTenant();
		const ip = randomIp();
		const u = await signUp(tenantId, PASSWORD, { ip });
		const token = u.tokens.access_token;
		const start = await authCall("POST", "/api/v1/auth/totp/enroll", { token, ip, body: { password: PASSWORD } });
		const enrolment = await start.json<{ secret: string; otpauth_uri: string }>();
		const app = URI.parse(enrolment.otpauth_uri);
		if (!(app instanceof TOTP)) throw new Error("not a TOTP URI");
		const confirm = await authCall("POST", "/api/v1/auth/totp/confirm", { token, ip, body: { code: app.generate() } });
		expect(confirm.status).toBe(200);
		const { recovery_codes: codes } = await confirm.json<{ recovery_codes: string[] }>();
		const on = await expectOnlyNotice(apiKey, tenantId, u, "totp_enabled");
		for (const secret of [enrolment.secret, ...codes]) expect(on.text).not.toContain(secret);

		const refused = await authCall("POST", "/api/v1/auth/totp/disable", {
			token,
			ip,
			body: { password: PASSWORD, recovery_code: "aaaaa-bbbbb" },
		});
		expect(refused.status).toBe(401);
		const off = await authCall("POST", "/api/v1/auth/totp/disable", {
			token,
			ip,
			body: { password: PASSWORD, recovery_code: codes[0] },
		});
		expect(off.status).toBe(200);
		await awaitNotice(apiKey, u.email, "totp_disabled");
		await sleep(300);
		const subjects = (await noticesTo(apiKey, u.email)).map((m) => m.subject).sort();
		expect(subjects).toEqual([noticeSubject("totp_disabled"), noticeSubject("totp_enabled")].sort());
		expect(await storedNotices(tenantId, u.userId)).toEqual(["platform.totp_enabled", "platform.totp_disabled"]);
	});

	it("mails a new-sign-in notice for an address and device the user had no session from", async () => {
		const { tenantId, apiKey } = await createTenant();
		const home = randomIp();
		const u = await signUp(tenantId, PASSWORD, { ip: home, userAgent: AGENT });
		const login = (ip: string, userAgent: string, password = PASSWORD) =>
			authCall("POST", "/api/v1/auth/login", {
				tenant: tenantId,
				ip,
				userAgent,
				body: { login: u.username, password },
			});
		expect((await login(home, AGENT)).status).toBe(200);
		expect((await login(randomIp(), "Elsewhere/2.0", "a wrong password!!")).status).toBe(401);
		const away = randomIp();
		expect((await login(away, "Elsewhere/2.0")).status).toBe(200);
		const mail = await expectOnlyNotice(apiKey, tenantId, u, "new_sign_in");
		expect(mail.text).toContain(`From: IP address ${away}`);
		expect(mail.text).toContain("Device: Elsewhere/2.0");
		// The same place again is known now.
		expect((await login(away, "Elsewhere/2.0")).status).toBe(200);
		await sleep(500);
		expect(await noticesTo(apiKey, u.email)).toHaveLength(1);
	});
});
