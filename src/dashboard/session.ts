import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../platform/app-env";
import { randomHex, sha256Hex } from "../platform/crypto";
import { sameSecret } from "../gateway/tenants/admin-auth";
import { principalForApiKey } from "../gateway/tenants/middleware";
import { hashSecret } from "../gateway/tenants/domain";
import type { SessionRow } from "./session-db";
import { deleteSession, insertSession } from "./session-db";
import { SESSION_COOKIE, SESSION_TTL_SECONDS } from "./domain";

export type OpenedSession = {
	scope: "admin" | "tenant";
	tenantId: string | null;
	tenantName: string | null;
	expiresAt: number;
};

/**
 * Exchanges the admin token or a tenant API key for a session of SESSION_TTL_SECONDS: a random
 * token in an HttpOnly, SameSite=Strict cookie (Secure over https); D1 keeps only its hash. The
 * long-lived secret never reaches the browser's storage.
 */
export async function openSession(c: Context<AppEnv>, secret: string): Promise<OpenedSession> {
	const now = Date.now();
	const admin = Boolean(c.env.ADMIN_TOKEN) && (await sameSecret(secret, c.env.ADMIN_TOKEN));
	const principal = admin ? null : await principalForApiKey(c, secret);
	const token = randomHex(32);
	const row: SessionRow = {
		id_hash: await sha256Hex(token),
		scope: principal ? "tenant" : "admin",
		tenant_id: principal?.tenantId ?? null,
		key_hash: principal ? await hashSecret(secret) : null,
		created_at: now,
		expires_at: now + SESSION_TTL_SECONDS * 1000,
	};
	await insertSession(c.env.DB, row);
	setCookie(c, SESSION_COOKIE, token, {
		httpOnly: true,
		secure: new URL(c.req.url).protocol === "https:",
		sameSite: "Strict",
		path: "/",
		maxAge: SESSION_TTL_SECONDS,
	});
	return {
		scope: row.scope,
		tenantId: row.tenant_id,
		tenantName: principal?.tenantName ?? null,
		expiresAt: row.expires_at,
	};
}

/** Logout: the session row goes (so a copied cookie is dead too) and the cookie is cleared. */
export async function closeSession(c: Context<AppEnv>): Promise<boolean> {
	const token = getCookie(c, SESSION_COOKIE);
	deleteCookie(c, SESSION_COOKIE, { path: "/" });
	if (!token) return false;
	await deleteSession(c.env.DB, await sha256Hex(token));
	return true;
}
