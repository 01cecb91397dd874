import { env } from "cloudflare:workers";
import { Secret, TOTP, URI } from "otpauth";
import { describe, expect, it } from "vitest";
import jsQR from "jsqr";
import { createTenant } from "../helpers";
import { rasterise } from "../shortener/svg-raster";
import { PASSWORD, authCall, errorCode, logIn, signUp } from "./account-helpers";

type Enrolment = { secret: string; otpauth_uri: string; qr_svg: string };

/** The authenticator app: otpauth reading the URI the platform handed out. */
function authenticator(uri: string): TOTP {
	const otp = URI.parse(uri);
	if (!(otp instanceof TOTP)) throw new Error("not a TOTP URI");
	return otp;
}

async function enrolled(tenantId: string) {
	const user = await signUp(tenantId);
	const token = user.tokens.access_token;
	const start = await authCall("POST", "/api/v1/auth/totp/enroll", {
		token,
		body: { password: PASSWORD, issuer: "Acme" },
	});
	expect(start.status).toBe(200);
	const enrolment = await start.json<Enrolment>();
	const app = authenticator(enrolment.otpauth_uri);
	const confirm = await authCall("POST", "/api/v1/auth/totp/confirm", { token, body: { code: app.generate() } });
	expect(confirm.status).toBe(200);
	const { recovery_codes } = await confirm.json<{ recovery_codes: string[] }>();
	return { ...user, app, enrolment, recoveryCodes: recovery_codes };
}

describe("TOTP enrolment", () => {
	it("hands out an otpauth URI, a QR code of it and the secret; needs the password", async () => {
		const { tenantId } = await createTenant();
		const user = await signUp(tenantId);
		const token = user.tokens.access_token;
		const refused = await authCall("POST", "/api/v1/auth/totp/enroll", {
			token,
			body: { password: "wrong password!" },
		});
		expect(refused.status).toBe(401);
		const res = await authCall("POST", "/api/v1/auth/totp/enroll", { token, body: { password: PASSWORD } });
		const enrolment = await res.json<Enrolment>();
		const app = authenticator(enrolment.otpauth_uri);
		expect(app.secret.base32).toBe(enrolment.secret);
		expect(app).toMatchObject({ issuer: "Floodgate", label: user.username, digits: 6, period: 30, algorithm: "SHA1" });
		const size = Number(/viewBox="0 0 (\d+) \1"/.exec(enrolment.qr_svg)?.[1]);
		expect(jsQR(rasterise(enrolment.qr_svg, size, 6), size * 6, size * 6)?.data).toBe(enrolment.otpauth_uri);
		// Not enabled until confirmed: login still needs no code.
		expect((await logIn(tenantId, user.username)).status).toBe(200);
		const row = await env.DB.prepare("SELECT totp_pending_sealed FROM account_users WHERE id = ?")
			.bind(user.userId)
			.first<{ totp_pending_sealed: string }>();
		expect(row?.totp_pending_sealed).toMatch(/^v1\./);
		expect(row?.totp_pending_sealed).not.toContain(enrolment.secret);
	});

	it("is confirmed only by a correct code and answers 10 recovery codes", async () => {
		const { tenantId } = await createTenant();
		const user = await signUp(tenantId);
		const token = user.tokens.access_token;
		const early = await authCall("POST", "/api/v1/auth/totp/confirm", { token, body: { code: "123456" } });
		expect(await errorCode(early)).toBe("no_pending_enrolment");
		const res = await authCall("POST", "/api/v1/auth/totp/enroll", { token, body: { password: PASSWORD } });
		const app = authenticator((await res.json<Enrolment>()).otpauth_uri);
		const wrongCode = String((Number(app.generate()) + 1) % 1_000_000).padStart(6, "0");
		const wrong = await authCall("POST", "/api/v1/auth/totp/confirm", { token, body: { code: wrongCode } });
		expect(wrong.status).toBe(401);
		const ok = await authCall("POST", "/api/v1/auth/totp/confirm", { token, body: { code: app.generate() } });
		const codes = (await ok.json<{ recovery_codes: string[] }>()).recovery_codes;
		expect(codes).toHaveLength(10);
		expect(new Set(codes).size).toBe(10);
		for (const code of codes) expect(code).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
		const again = await authCall("POST", "/api/v1/auth/totp/enroll", { token, body: { password: PASSWORD } });
		expect(await errorCode(again)).toBe("totp_already_enabled");
	});
});

describe("logging in with TOTP", () => {
	it("needs the code, accepts the authenticator's next code once, refuses a replay", async () => {
		const { tenantId } = await createTenant();
		const user = await enrolled(tenantId);
		const bare = await logIn(tenantId, user.username);
		expect(bare.status).toBe(401);
		expect(await errorCode(bare)).toBe("totp_required");
		const wrongPassword = await authCall("POST", "/api/v1/auth/login", {
			tenant: tenantId,
			body: { login: user.username, password: "wrong password!", totp_code: user.app.generate() },
		});
		expect(await errorCode(wrongPassword)).toBe("invalid_credentials");
		// The confirmation spent this time step: the authenticator's next code (30 s on) is the one to use.
		const next = user.app.generate({ timestamp: Date.now() + 30_000 });
		expect((await logIn(tenantId, user.username, { totp_code: next })).status).toBe(200);
		const replay = await logIn(tenantId, user.username, { totp_code: next });
		expect(replay.status).toBe(401);
		expect(await errorCode(replay)).toBe("invalid_totp");
		const stale = user.app.generate({ timestamp: Date.now() - 120_000 });
		expect(await errorCode(await logIn(tenantId, user.username, { totp_code: stale }))).toBe("invalid_totp");
	});

	it("accepts each recovery code once (any case, dash optional)", async () => {
		const { tenantId } = await createTenant();
		const user = await enrolled(tenantId);
		const code = user.recoveryCodes[0] ?? "";
		const typed = code.replace("-", "").toUpperCase();
		expect((await logIn(tenantId, user.username, { recovery_code: typed })).status).toBe(200);
		expect(await errorCode(await logIn(tenantId, user.username, { recovery_code: code }))).toBe("invalid_totp");
		expect(await errorCode(await logIn(tenantId, user.username, { recovery_code: "aaaaa-aaaaa" }))).toBe(
			"invalid_totp",
		);
		expect((await logIn(tenantId, user.username, { recovery_code: user.recoveryCodes[1] ?? "" })).status).toBe(200);
	});

	it("can be turned off with the password and a code; then login needs no code", async () => {
		const { tenantId } = await createTenant();
		const user = await enrolled(tenantId);
		const token = user.tokens.access_token;
		const noCode = await authCall("POST", "/api/v1/auth/totp/disable", { token, body: { password: PASSWORD } });
		expect(await errorCode(noCode)).toBe("totp_required");
		const next = user.app.generate({ timestamp: Date.now() + 30_000 });
		const off = await authCall("POST", "/api/v1/auth/totp/disable", {
			token,
			body: { password: PASSWORD, totp_code: next },
		});
		expect(off.status).toBe(200);
		expect((await logIn(tenantId, user.username)).status).toBe(200);
		expect(Secret.fromBase32(user.enrolment.secret).bytes.length).toBe(20);
	});
});

describe("recovery codes", () => {
	type Status = { enabled: boolean; pending: boolean; recovery_codes_remaining: number };
	const status = async (token: string) => (await authCall("GET", "/api/v1/auth/totp", { token })).json<Status>();

	it("reports TOTP's state and the unused codes left", async () => {
		const { tenantId } = await createTenant();
		const plain = await signUp(tenantId);
		expect(await status(plain.tokens.access_token)).toEqual({
			enabled: false,
			pending: false,
			recovery_codes_remaining: 0,
		});
		const user = await enrolled(tenantId);
		expect(await status(user.tokens.access_token)).toEqual({
			enabled: true,
			pending: false,
			recovery_codes_remaining: 10,
		});
		expect((await logIn(tenantId, user.username, { recovery_code: user.recoveryCodes[0] ?? "" })).status).toBe(200);
		expect((await status(user.tokens.access_token)).recovery_codes_remaining).toBe(9);
	});

	it("are replaced with a second factor: the new ones work, every old one stops", async () => {
		const { tenantId } = await createTenant();
		const user = await enrolled(tenantId);
		const token = user.tokens.access_token;
		const path = "/api/v1/auth/totp/recovery-codes";
		expect(await errorCode(await authCall("POST", path, { token, body: { password: PASSWORD } }))).toBe(
			"totp_required",
		);
		const wrongPassword = await authCall("POST", path, {
			token,
			body: { password: "wrong password!", recovery_code: user.recoveryCodes[0] },
		});
		expect(wrongPassword.status).toBe(401);
		// A refused attempt spent nothing: the code used below still works once.
		const res = await authCall("POST", path, {
			token,
			body: { password: PASSWORD, recovery_code: user.recoveryCodes[0] },
		});
		expect(res.status).toBe(200);
		const fresh = (await res.json<{ recovery_codes: string[] }>()).recovery_codes;
		expect(fresh).toHaveLength(10);
		expect(fresh.filter((c) => user.recoveryCodes.includes(c))).toEqual([]);
		expect(await errorCode(await logIn(tenantId, user.username, { recovery_code: user.recoveryCodes[1] ?? "" }))).toBe(
			"invalid_totp",
		);
		expect((await logIn(tenantId, user.username, { recovery_code: fresh[0] ?? "" })).status).toBe(200);
		expect((await status(token)).recovery_codes_remaining).toBe(9);
	});

	it("cannot be made while TOTP is off (409), and another user's codes are untouched", async () => {
		const { tenantId } = await createTenant();
		const plain = await signUp(tenantId);
		const off = await authCall("POST", "/api/v1/auth/totp/recovery-codes", {
			token: plain.tokens.access_token,
			body: { password: PASSWORD, totp_code: "123456" },
		});
		expect(await errorCode(off)).toBe("totp_not_enabled");
		const other = await enrolled(tenantId);
		const user = await enrolled(tenantId);
		const next = user.app.generate({ timestamp: Date.now() + 30_000 });
		const res = await authCall("POST", "/api/v1/auth/totp/recovery-codes", {
			token: user.tokens.access_token,
			body: { password: PASSWORD, totp_code: next },
		});
		expect(res.status).toBe(200);
		expect((await status(other.tokens.access_token)).recovery_codes_remaining).toBe(10);
		expect((await logIn(tenantId, other.username, { recovery_code: other.recoveryCodes[2] ?? "" })).status).toBe(200);
	});
});
