import { SignJWT, createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { z } from "zod";
import { base64Url, ACCOUNT_LIMITS, SESSION_ID_PATTERN, TENANT_ID_PATTERN } from "./domain";
import { JWT_ALG, currentSigner, keysIncluding } from "./keys";

/**
 * Access tokens (RFC 9068 shape): `typ: at+jwt`, ES256, `kid`; claims iss, aud (the tenant), sub
 * (the user), tid (the tenant), sid (the session), iat, exp (10 minutes), jti. Refresh tokens are
 * opaque: `fgr_` and 32 random bytes, stored as their SHA-256.
 */

export const ISSUER = "floodgate";
export const ACCESS_TOKEN_TYPE = "at+jwt";

export type AccessClaims = { tenantId: string; userId: string; sessionId: string; expiresAt: number };

const claimsSchema = z.object({
	sub: z.string().regex(/^usr_[0-9a-f]{24}$/),
	tid: z.string().regex(TENANT_ID_PATTERN),
	sid: z.string().regex(SESSION_ID_PATTERN),
	aud: z.string(),
	exp: z.number().int(),
});

export async function issueAccessToken(
	env: Env,
	claims: Omit<AccessClaims, "expiresAt">,
	now = Date.now(),
): Promise<{ token: string; expiresAt: number }> {
	const signer = await currentSigner(env, now);
	const iat = Math.floor(now / 1000);
	const exp = iat + ACCOUNT_LIMITS.accessTokenSeconds;
	const token = await new SignJWT({ tid: claims.tenantId, sid: claims.sessionId })
		.setProtectedHeader({ alg: JWT_ALG, kid: signer.kid, typ: ACCESS_TOKEN_TYPE })
		.setIssuer(ISSUER)
		.setAudience(claims.tenantId)
		.setSubject(claims.userId)
		.setIssuedAt(iat)
		.setExpirationTime(exp)
		.setJti(crypto.randomUUID())
		.sign(signer.key);
	return { token, expiresAt: exp * 1000 };
}

/**
 * Verifies signature (published keys only, ES256 only), type, issuer and expiry, and that the
 * audience is the token's own tenant. Null for any failure: callers answer one generic 401.
 */
export async function verifyAccessToken(env: Env, token: string, now = Date.now()): Promise<AccessClaims | null> {
	let kid: string | undefined;
	try {
		kid = decodeProtectedHeader(token).kid;
	} catch {
		return null;
	}
	const jwks = createLocalJWKSet({ keys: await keysIncluding(env, kid, now) });
	try {
		const { payload } = await jwtVerify(token, jwks, {
			algorithms: [JWT_ALG],
			issuer: ISSUER,
			typ: ACCESS_TOKEN_TYPE,
			currentDate: new Date(now),
			clockTolerance: 5,
			requiredClaims: ["exp", "iat", "sub", "aud"],
		});
		const claims = claimsSchema.safeParse(payload);
		if (!claims.success || claims.data.aud !== claims.data.tid) return null;
		return {
			tenantId: claims.data.tid,
			userId: claims.data.sub,
			sessionId: claims.data.sid,
			expiresAt: claims.data.exp * 1000,
		};
	} catch {
		return null;
	}
}

/** A password-reset or verification token (256 random bits); only its SHA-256 is stored. */
export function newEmailToken(): string {
	return `fge_${base64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
}

export function newRefreshToken(): string {
	return `fgr_${base64Url(crypto.getRandomValues(new Uint8Array(32)))}`;
}
