import { env } from "cloudflare:workers";
import { SignJWT, createLocalJWKSet, decodeProtectedHeader, exportJWK, generateKeyPair, jwtVerify } from "jose";
import type { JSONWebKeySet } from "jose";
import { describe, expect, it } from "vitest";
import { currentSigner, publishedKeys } from "../../../src/accounts/keys";
import { issueAccessToken, verifyAccessToken } from "../../../src/accounts/tokens";
import { call, createTenant } from "../helpers";
import { authCall, signUp } from "./account-helpers";

async function jwks(): Promise<{ res: Response; body: JSONWebKeySet }> {
	const res = await call("GET", "/.well-known/jwks.json");
	return { res, body: await res.clone().json<JSONWebKeySet>() };
}

function me(token: string, tenant?: string): Promise<Response> {
	return authCall("GET", "/api/v1/auth/me", { token, ...(tenant ? { tenant } : {}) });
}

/** The token with one part replaced (header, payload or signature), base64url-encoded. */
function withPart(token: string, index: number, value: string | Record<string, unknown>): string {
	const parts = token.split(".");
	parts[index] =
		typeof value === "string"
			? value
			: btoa(JSON.stringify(value)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
	return parts.join(".");
}

function payloadOf(token: string): Record<string, unknown> {
	const part = token.split(".")[1] ?? "";
	return JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
}

describe("access tokens", () => {
	it("verify with jose against the published JWKS (ES256, kid, at+jwt, tenant audience)", async () => {
		const { tenantId } = await createTenant();
		const { userId, tokens } = await signUp(tenantId);
		const { res, body } = await jwks();
		expect(res.status).toBe(200);
		expect(res.headers.get("Cache-Control")).toBe("public, max-age=300");
		for (const key of body.keys) expect(key).not.toHaveProperty("d");
		const { payload, protectedHeader } = await jwtVerify(tokens.access_token, createLocalJWKSet(body), {
			issuer: "floodgate",
			audience: tenantId,
			algorithms: ["ES256"],
		});
		expect(protectedHeader).toMatchObject({ alg: "ES256", typ: "at+jwt" });
		expect(body.keys.map((k) => k.kid)).toContain(protectedHeader.kid);
		expect(payload).toMatchObject({ sub: userId, tid: tenantId, sid: tokens.session_id });
		expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(600);
	});

	it("for tenant A never work for tenant B", async () => {
		const a = await createTenant();
		const b = await createTenant();
		const { tokens } = await signUp(a.tenantId);
		expect((await me(tokens.access_token, a.tenantId)).status).toBe(200);
		expect((await me(tokens.access_token, b.tenantId)).status).toBe(401);
		// Rewriting the tenant claims breaks the signature.
		const forged = withPart(tokens.access_token, 1, {
			...payloadOf(tokens.access_token),
			tid: b.tenantId,
			aud: b.tenantId,
		});
		expect((await me(forged)).status).toBe(401);
		expect((await me(forged, b.tenantId)).status).toBe(401);
	});

	it("are refused when expired, forged with another key, unsigned or mangled", async () => {
		const { tenantId } = await createTenant();
		const { userId, tokens } = await signUp(tenantId);
		const claims = { tenantId, userId, sessionId: tokens.session_id };
		const expired = await issueAccessToken(env, claims, Date.now() - 11 * 60_000);
		expect((await me(expired.token)).status).toBe(401);
		// Same header (kid included), signed with a key the platform never published.
		const { kid } = decodeProtectedHeader(tokens.access_token);
		const { privateKey } = await generateKeyPair("ES256");
		const foreign = await new SignJWT(payloadOf(tokens.access_token))
			.setProtectedHeader({ alg: "ES256", typ: "at+jwt", ...(kid ? { kid } : {}) })
			.sign(privateKey);
		expect((await me(foreign)).status).toBe(401);
		const unsigned = withPart(withPart(tokens.access_token, 0, { alg: "none", typ: "at+jwt", kid }), 2, "");
		expect((await me(unsigned)).status).toBe(401);
		expect((await me(tokens.access_token.slice(0, -4) + "AAAA")).status).toBe(401);
		expect((await me("not.a.jwt")).status).toBe(401);
		expect((await authCall("GET", "/api/v1/auth/me")).status).toBe(401);
		expect((await me(tokens.access_token)).status).toBe(200);
	});

	it("made with an HMAC of the public key (algorithm confusion) are refused", async () => {
		const { tenantId } = await createTenant();
		const { tokens } = await signUp(tenantId);
		const { body } = await jwks();
		const secret = new TextEncoder().encode(JSON.stringify(body.keys[0]));
		const confused = await new SignJWT(payloadOf(tokens.access_token))
			.setProtectedHeader({ alg: "HS256", typ: "at+jwt", kid: decodeProtectedHeader(tokens.access_token).kid ?? "" })
			.sign(secret);
		expect((await me(confused)).status).toBe(401);
	});
});

describe("signing keys", () => {
	it("rotate on the admin route: both keys published, old tokens still verify, new ones use the new kid", async () => {
		const { tenantId } = await createTenant();
		const before = await signUp(tenantId);
		const oldKid = decodeProtectedHeader(before.tokens.access_token).kid;
		expect((await call("POST", "/api/v1/auth/keys/rotate")).status).toBe(401);
		expect((await call("POST", "/api/v1/auth/keys/rotate", { token: before.tokens.access_token })).status).toBe(401);
		const res = await call("POST", "/api/v1/auth/keys/rotate", { token: env.ADMIN_TOKEN });
		expect(res.status).toBe(200);
		const { kid: newKid } = await res.json<{ kid: string }>();
		expect(newKid).not.toBe(oldKid);
		const published = (await jwks()).body.keys.map((k) => k.kid);
		expect(published).toEqual(expect.arrayContaining([oldKid, newKid]));
		expect((await me(before.tokens.access_token)).status).toBe(200);
		const after = await signUp(tenantId);
		expect(decodeProtectedHeader(after.tokens.access_token).kid).toBe(newKid);
		const local = createLocalJWKSet((await jwks()).body);
		await expect(jwtVerify(before.tokens.access_token, local)).resolves.toBeDefined();
		await expect(jwtVerify(after.tokens.access_token, local)).resolves.toBeDefined();
	});

	it("drop a retired key from the JWKS once its tokens have expired, and then refuse its tokens", async () => {
		const { tenantId } = await createTenant();
		const { tokens } = await signUp(tenantId);
		const oldKid = decodeProtectedHeader(tokens.access_token).kid ?? "";
		expect((await call("POST", "/api/v1/auth/keys/rotate", { token: env.ADMIN_TOKEN })).status).toBe(200);
		await env.DB.prepare("UPDATE account_signing_keys SET retired_at = ? WHERE kid = ?")
			.bind(Date.now() - 20 * 60_000, oldKid)
			.run();
		const keys = await publishedKeys(env, Date.now(), true);
		expect(keys.map((k) => k.kid)).not.toContain(oldKid);
		expect(await verifyAccessToken(env, tokens.access_token)).toBeNull();
	});

	it("rotate by themselves when the current key is older than 30 days", async () => {
		const current = await currentSigner(env);
		const later = Date.now() + 31 * 86_400_000;
		const next = await currentSigner(env, later);
		expect(next.kid).not.toBe(current.kid);
		const row = await env.DB.prepare("SELECT retired_at FROM account_signing_keys WHERE kid = ?")
			.bind(current.kid)
			.first<{ retired_at: number | null }>();
		expect(row?.retired_at).toBe(later);
		const sealed = await env.DB.prepare("SELECT private_sealed FROM account_signing_keys WHERE kid = ?")
			.bind(next.kid)
			.first<{ private_sealed: string }>();
		expect(sealed?.private_sealed).toMatch(/^v1\./);
		expect(sealed?.private_sealed).not.toContain('"d"');
	});
});

describe("the JWKS", () => {
	it("publishes public EC P-256 keys only", async () => {
		await currentSigner(env);
		const { body } = await jwks();
		expect(body.keys.length).toBeGreaterThan(0);
		const { publicKey } = await generateKeyPair("ES256", { extractable: true });
		const shape = Object.keys(await exportJWK(publicKey)).sort();
		for (const key of body.keys) {
			expect(key).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig" });
			expect(
				Object.keys(key)
					.filter((k) => !["kid", "alg", "use"].includes(k))
					.sort(),
			).toEqual(shape);
		}
	});
});
