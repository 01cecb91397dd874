import type { LimitTarget } from "../gateway/limiter/route-limits";
import { takeTokens } from "../gateway/limiter/service";
import { newId, sha256Hex } from "../platform/crypto";
import { AppError } from "../platform/errors";
import { log } from "../platform/log";
import { TtlCache } from "../platform/ttl-cache";
import type { EndUser } from "../platform/app-env";
import { ACCOUNT_LIMITS, REFRESH_TOKEN_PATTERN, passwordProblem } from "./domain";
import { hashPassword, verifyAgainstDecoy, verifyPassword } from "./password";
import {
	findRefreshToken,
	hasSessionFrom,
	insertSession,
	revokeSession,
	revokeUserSessions,
	rotateRefreshToken,
	sessionIsLive,
} from "./sessions-db";
import { checkSecondFactor } from "./totp";
import type { UserRow } from "./users-db";
import { findUser, findUserByLogin, insertUser, tenantExists, updatePasswordHash } from "./users-db";
import { issueAccessToken, newRefreshToken } from "./tokens";

/** Accounts' I/O: sign-up, login, refresh rotation with reuse detection, session liveness. */

export type Client = { ip: string; userAgent: string | null };
export type Tokens = {
	access_token: string;
	token_type: "Bearer";
	expires_in: number;
	expires_at: number;
	refresh_token: string;
	session_id: string;
};
export type SignupInput = { username: string; email: string; password: string };
export type LoginInput = {
	login: string;
	password: string;
	totpCode?: string | undefined;
	recoveryCode?: string | undefined;
};

/** How long an isolate trusts that a session is live (a revocation elsewhere shows within this). */
export const SESSION_CACHE_MS = 5_000;

/** Login attempts, counted by the gateway's RateLimiter objects; an outage refuses logins (503). */
export const LOGIN_PER_ACCOUNT = {
	name: "login-account",
	algorithm: "token_bucket",
	limit: 10,
	windowSeconds: 900,
	burst: 10,
} as const;
export const LOGIN_PER_IP = { name: "login-ip", algorithm: "sliding_window", limit: 30, windowSeconds: 60 } as const;
const SIGNUP_PER_IP = {
	name: "signup-ip",
	algorithm: "token_bucket",
	limit: 20,
	windowSeconds: 3600,
	burst: 20,
} as const;

// Isolate caches of plain data: tenants that exist, sessions known live (false: known revoked).
const tenants = new TtlCache<string, true>({ ttlMs: 60_000, maxEntries: 10_000 });
const sessions = new TtlCache<string, boolean>({ ttlMs: SESSION_CACHE_MS, maxEntries: 50_000 });

export async function requireTenant(db: D1Database, tenantId: string): Promise<void> {
	if (tenants.get(tenantId)) return;
	if (!(await tenantExists(db, tenantId)))
		throw new AppError(400, "unknown_tenant", "The Floodgate-Tenant header names no tenant.");
	tenants.set(tenantId, true);
}

export async function signup(env: Env, tenantId: string, input: SignupInput, client: Client, now = Date.now()) {
	await throttle(env, [target(`acct:signup:ip:${client.ip}`, SIGNUP_PER_IP)]);
	await requireTenant(env.DB, tenantId);
	const user = {
		id: newId("usr"),
		tenant_id: tenantId,
		username: input.username,
		email: input.email,
		password_hash: hashPassword(input.password),
		created_at: now,
	};
	if (!(await insertUser(env.DB, user)))
		throw new AppError(409, "account_exists", "That username or e-mail address is already registered.");
	return { user: userJson(user), tokens: await startSession(env, user, client, now) };
}

/**
 * One generic 401 for an unknown login and a wrong password, after the same amount of work.
 * `newDevice`: the user never had a session from this IP and user agent (a notice goes out).
 */
export async function login(env: Env, tenantId: string, input: LoginInput, client: Client, now = Date.now()) {
	await throttle(env, [
		target(`acct:login:ip:${client.ip}`, LOGIN_PER_IP),
		target(`acct:login:account:${tenantId}:${input.login}`, LOGIN_PER_ACCOUNT),
	]);
	await requireTenant(env.DB, tenantId);
	const user = await findUserByLogin(env.DB, tenantId, input.login);
	const check = user
		? verifyPassword(input.password, user.password_hash)
		: { ok: verifyAgainstDecoy(input.password), rehash: false };
	if (!user || !check.ok) throw invalidCredentials();
	if (user.totp_secret_sealed) await checkSecondFactor(env, user, input, now);
	if (check.rehash) await updatePasswordHash(env.DB, user.id, hashPassword(input.password), now);
	const device = sessionClient(client);
	const seen = await hasSessionFrom(env.DB, tenantId, user.id, device.ip, device.user_agent);
	return { body: { user: userJson(user), tokens: await startSession(env, user, client, now) }, newDevice: !seen };
}

/**
 * Rotates a refresh token. A token used before (or beaten to it by a concurrent use) means it was
 * copied: the whole session, the family of every token it produced, is revoked (OAuth 2.0 Security BCP 4.14).
 */
export async function refresh(
	env: Env,
	token: string,
	namedTenant: string | undefined,
	now = Date.now(),
): Promise<Tokens> {
	if (!REFRESH_TOKEN_PATTERN.test(token)) throw invalidRefresh();
	const oldHash = await sha256Hex(token);
	const found = await findRefreshToken(env.DB, oldHash);
	if (!found || (namedTenant !== undefined && namedTenant !== found.tenant_id)) throw invalidRefresh();
	if (found.revoked_at !== null || found.expires_at <= now) throw invalidRefresh();
	const next = newRefreshToken();
	const nextHash = await sha256Hex(next);
	if (found.used_at !== null || !(await rotateRefreshToken(env.DB, found.session_id, oldHash, nextHash, now))) {
		await revokeSession(env.DB, found.tenant_id, found.user_id, found.session_id, "refresh_token_reuse", now);
		forgetSession(found.tenant_id, found.session_id);
		log.warn("refresh token reused: session revoked", { tenant_id: found.tenant_id, session_id: found.session_id });
		throw new AppError(
			401,
			"refresh_token_reused",
			"This refresh token was already used; the session is revoked. Log in again.",
		);
	}
	const claims = { tenantId: found.tenant_id, userId: found.user_id, sessionId: found.session_id };
	return tokensJson(await issueAccessToken(env, claims, now), next, found.session_id);
}

/**
 * Changes the password (the current one required, counted against the account's login throttle)
 * and ends every other session of the user; answers their ids.
 */
export async function changePassword(env: Env, who: EndUser, current: string, next: string, now = Date.now()) {
	const user = await findUser(env.DB, who.tenantId, who.userId);
	if (!user) throw new AppError(404, "not_found", "No such user.");
	await throttle(env, [target(`acct:login:account:${who.tenantId}:${user.username}`, LOGIN_PER_ACCOUNT)]);
	if (!verifyPassword(current, user.password_hash).ok) throw invalidCredentials();
	const problem = passwordProblem(next, user.username, user.email);
	if (problem) throw weakPassword(problem);
	await updatePasswordHash(env.DB, user.id, hashPassword(next), now);
	const revoked = await revokeUserSessions(env.DB, who.tenantId, who.userId, "password_changed", now, who.sessionId);
	for (const id of revoked) forgetSession(who.tenantId, id);
	return revoked;
}

/** Whether a session may still be used, cached briefly per isolate; revocations here show at once. */
export async function sessionLive(env: Env, tenantId: string, sessionId: string, now = Date.now()): Promise<boolean> {
	const key = `${tenantId}:${sessionId}`;
	const cached = sessions.get(key, now);
	if (cached !== undefined) return cached;
	const live = await sessionIsLive(env.DB, tenantId, sessionId, now);
	sessions.set(key, live, live ? SESSION_CACHE_MS : ACCOUNT_LIMITS.accessTokenSeconds * 1000, now);
	return live;
}

/** Marks a session revoked in this isolate's cache (its access tokens stop working here at once). */
export function forgetSession(tenantId: string, sessionId: string): void {
	sessions.set(`${tenantId}:${sessionId}`, false, ACCOUNT_LIMITS.accessTokenSeconds * 1000);
}

export function userJson(
	user: Pick<UserRow, "id" | "username" | "email" | "created_at"> & { email_verified_at?: number | null },
) {
	return {
		id: user.id,
		username: user.username,
		email: user.email,
		email_verified: (user.email_verified_at ?? null) !== null,
		created_at: user.created_at,
	};
}

export function weakPassword(problem: string): AppError {
	return new AppError(400, "weak_password", `The password is refused: ${problem}.`, {
		fields: [{ path: "password", message: problem }],
	});
}

export function invalidCredentials(): AppError {
	return new AppError(401, "invalid_credentials", "Invalid login or password.");
}

async function startSession(
	env: Env,
	user: Pick<UserRow, "id" | "tenant_id">,
	client: Client,
	now: number,
): Promise<Tokens> {
	const sessionId = newId("ses");
	const refreshToken = newRefreshToken();
	const session = {
		id: sessionId,
		tenant_id: user.tenant_id,
		user_id: user.id,
		created_at: now,
		last_used_at: now,
		expires_at: now + ACCOUNT_LIMITS.sessionSeconds * 1000,
		revoked_at: null,
		...sessionClient(client),
	};
	await insertSession(env.DB, session, await sha256Hex(refreshToken));
	const access = await issueAccessToken(env, { tenantId: user.tenant_id, userId: user.id, sessionId }, now);
	return tokensJson(access, refreshToken, sessionId);
}

/** The client as a session row keeps it (capped). */
function sessionClient(client: Client): { user_agent: string | null; ip: string } {
	return { user_agent: client.userAgent?.slice(0, 256) ?? null, ip: client.ip.slice(0, 64) };
}

function tokensJson(access: { token: string; expiresAt: number }, refreshToken: string, sessionId: string): Tokens {
	return {
		access_token: access.token,
		token_type: "Bearer",
		expires_in: ACCOUNT_LIMITS.accessTokenSeconds,
		expires_at: access.expiresAt,
		refresh_token: refreshToken,
		session_id: sessionId,
	};
}

function invalidRefresh(): AppError {
	return new AppError(401, "invalid_refresh_token", "The refresh token is invalid, expired or revoked.");
}

export function target(key: string, policy: LimitTarget["policies"][number]): LimitTarget {
	return { key, policies: [policy], cost: 1, onFailure: "closed" };
}

/** 429 (with Retry-After) when a target is over its limit; 503 when the limiter cannot answer. */
export async function throttle(env: Env, targets: LimitTarget[]): Promise<void> {
	const outcome = await takeTokens(env.RATE_LIMITER, targets);
	if (outcome.allowed) return;
	if (outcome.unavailable) throw new AppError(503, "limiter_unavailable", "Try again shortly.");
	const retryAfter = Math.max(1, Math.ceil((outcome.retryAfterMs ?? 1000) / 1000));
	throw new AppError(
		429,
		"rate_limited",
		"Too many attempts; try again later.",
		{ retry_after: retryAfter },
		{
			"Retry-After": String(retryAfter),
		},
	);
}
