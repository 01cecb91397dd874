import { sendEmail } from "../email/provider";
import type { EndUser } from "../platform/app-env";
import { sha256Hex } from "../platform/crypto";
import { AppError } from "../platform/errors";
import { errorText, log } from "../platform/log";
import { passwordProblem } from "./domain";
import type { EmailTokenPurpose } from "./email-tokens-db";
import { findUsableToken, insertEmailToken, spendResetToken, spendVerifyToken } from "./email-tokens-db";
import { hashPassword } from "./password";
import type { Client } from "./service";
import { LOGIN_PER_IP, forgetSession, requireTenant, target, throttle, weakPassword } from "./service";
import { revokeUserSessions } from "./sessions-db";
import { newEmailToken } from "./tokens";
import type { UserRow } from "./users-db";
import { findUser, findUserByLogin } from "./users-db";

/**
 * Password reset and address verification by e-mail (ASVS 2.5.1–2.5.6, 2.1.x): single-use tokens,
 * stored as SHA-256 hashes, sent through the platform's e-mail provider adapter.
 */

export const RESET_TOKEN_TTL_MS = 20 * 60_000;
export const VERIFY_TOKEN_TTL_MS = 24 * 3_600_000;
/** An address change is asked for by a signed-in user who is reading mail now: an hour is enough. */
export const CHANGE_TOKEN_TTL_MS = 60 * 60_000;
const TTL_MS: Record<EmailTokenPurpose, number> = {
	password_reset: RESET_TOKEN_TTL_MS,
	email_verify: VERIFY_TOKEN_TTL_MS,
	email_change: CHANGE_TOKEN_TTL_MS,
};

/** Reset requests per address (whether or not it has an account, so a 429 reveals nothing) and per IP. */
const FORGOT_PER_ADDRESS = {
	name: "forgot-address",
	algorithm: "token_bucket",
	limit: 3,
	windowSeconds: 900,
	burst: 3,
} as const;
const FORGOT_PER_IP = {
	name: "forgot-ip",
	algorithm: "token_bucket",
	limit: 10,
	windowSeconds: 3600,
	burst: 10,
} as const;
const RESEND_PER_USER = {
	name: "verify-resend",
	algorithm: "token_bucket",
	limit: 3,
	windowSeconds: 900,
	burst: 3,
} as const;

export type Recipient = Pick<UserRow, "id" | "tenant_id" | "username" | "email">;

/**
 * A reset request: throttled, then answered the same way whether the address has an account or
 * not. The lookup and the e-mail run in `background` (after the answer), so timing does not tell.
 */
export async function forgotPassword(
	env: Env,
	tenantId: string,
	email: string,
	client: Client,
	background: (work: Promise<unknown>) => void,
): Promise<void> {
	await throttle(env, [
		target(`acct:forgot:ip:${client.ip}`, FORGOT_PER_IP),
		target(`acct:forgot:address:${tenantId}:${email}`, FORGOT_PER_ADDRESS),
	]);
	await requireTenant(env.DB, tenantId);
	background(
		(async () => {
			const user = await findUserByLogin(env.DB, tenantId, email);
			if (user && user.email === email) await mailToken(env, user, "password_reset", Date.now());
		})().catch((err: unknown) => log.warn("password reset mail failed", { error: errorText(err) })),
	);
}

/** Sets a new password with a reset token and ends every session of the user; answers the user and their ids. */
export async function resetPassword(
	env: Env,
	tenantId: string,
	token: string,
	newPassword: string,
	client: Client,
	now = Date.now(),
): Promise<{ userId: string; revoked: string[] }> {
	await throttle(env, [target(`acct:token:ip:${client.ip}`, LOGIN_PER_IP)]);
	await requireTenant(env.DB, tenantId);
	const tokenHash = await sha256Hex(token);
	const found = await findUsableToken(env.DB, tenantId, tokenHash, "password_reset", now);
	const user = found ? await findUser(env.DB, tenantId, found.user_id) : null;
	if (!user) throw invalidToken();
	// Checked before the token is spent: a refused password leaves the token usable.
	const problem = passwordProblem(newPassword, user.username, user.email);
	if (problem) throw weakPassword(problem);
	const reset = { tenantId, tokenHash, userId: user.id, passwordHash: hashPassword(newPassword) };
	if (!(await spendResetToken(env.DB, reset, now))) throw invalidToken();
	const revoked = await revokeUserSessions(env.DB, tenantId, user.id, "password_reset", now);
	for (const id of revoked) forgetSession(tenantId, id);
	log.info("password reset", { tenant_id: tenantId, user_id: user.id, sessions_revoked: revoked.length });
	return { userId: user.id, revoked };
}

/** Marks the address verified with a verification token; answers the user's id. */
export async function verifyEmail(
	env: Env,
	tenantId: string,
	token: string,
	client: Client,
	now = Date.now(),
): Promise<string> {
	await throttle(env, [target(`acct:token:ip:${client.ip}`, LOGIN_PER_IP)]);
	await requireTenant(env.DB, tenantId);
	const tokenHash = await sha256Hex(token);
	const found = await findUsableToken(env.DB, tenantId, tokenHash, "email_verify", now);
	if (!found) throw invalidToken();
	const spend = { tenantId, tokenHash, userId: found.user_id, email: found.email };
	if (!(await spendVerifyToken(env.DB, spend, now))) throw invalidToken();
	return found.user_id;
}

/** A new verification e-mail for the signed-in user (409 when already verified; throttled per user). */
export async function resendVerification(env: Env, who: EndUser, now = Date.now()): Promise<void> {
	const user = await findUser(env.DB, who.tenantId, who.userId);
	if (!user) throw new AppError(404, "not_found", "No such user.");
	if (user.email_verified_at !== null)
		throw new AppError(409, "already_verified", "This e-mail address is already verified.");
	await throttle(env, [target(`acct:verify:user:${who.tenantId}:${who.userId}`, RESEND_PER_USER)]);
	if (!(await mailToken(env, user, "email_verify", now)))
		throw new AppError(503, "email_unavailable", "The e-mail could not be sent; try again shortly.", undefined, {
			"Retry-After": "60",
		});
}

/** The verification e-mail sent after sign-up (best effort: a failure is logged; resend exists). */
export async function sendSignupVerification(env: Env, user: Recipient): Promise<void> {
	try {
		if (!(await mailToken(env, user, "email_verify", Date.now())))
			log.warn("verification mail not sent", { tenant_id: user.tenant_id, user_id: user.id });
	} catch (err) {
		log.warn("verification mail failed", { tenant_id: user.tenant_id, user_id: user.id, error: errorText(err) });
	}
}

/**
 * Stores a fresh token (earlier ones of the purpose die) and mails it to `user.email` (for
 * email_change: the new address, and `sessionId` the session that asked); true when the provider took it.
 */
export async function mailToken(
	env: Env,
	user: Recipient,
	purpose: EmailTokenPurpose,
	now: number,
	sessionId: string | null = null,
): Promise<boolean> {
	const token = newEmailToken();
	const tokenHash = await sha256Hex(token);
	await insertEmailToken(env.DB, {
		token_hash: tokenHash,
		tenant_id: user.tenant_id,
		user_id: user.id,
		email: user.email,
		purpose,
		created_at: now,
		expires_at: now + TTL_MS[purpose],
		session_id: sessionId,
	});
	const outcome = await sendEmail(env, user.tenant_id, messageFor(env, user, purpose, token), `acct:${tokenHash}`);
	const sent = outcome.kind === "answered" && outcome.results[0]?.status === "sent";
	if (!sent) log.warn("account e-mail not sent", { tenant_id: user.tenant_id, purpose, outcome: outcome.kind });
	return sent;
}

const SUBJECTS: Record<EmailTokenPurpose, string> = {
	password_reset: "Reset your password",
	email_verify: "Confirm your e-mail address",
	email_change: "Confirm your new e-mail address",
};

function messageFor(env: Env, user: Recipient, purpose: EmailTokenPurpose, token: string) {
	const texts: Record<EmailTokenPurpose, string> = {
		password_reset:
			`Someone asked to reset the password of the account "${user.username}".\n\nReset code: ${token}\n\n` +
			`It works once, within ${RESET_TOKEN_TTL_MS / 60_000} minutes. If this was not you, ignore this e-mail: ` +
			"your password has not changed.",
		email_verify:
			`Confirm the e-mail address of the account "${user.username}".\n\nVerification code: ${token}\n\n` +
			`It works once, within ${VERIFY_TOKEN_TTL_MS / 3_600_000} hours.`,
		email_change:
			`The account "${user.username}" asked to use this address as its e-mail address.\n\n` +
			`Confirmation code: ${token}\n\nIt works once, within ${CHANGE_TOKEN_TTL_MS / 60_000} minutes, while the ` +
			"session that asked is still signed in. If this was not you, ignore this e-mail: nothing changes.",
	};
	return {
		from: env.NOTIFICATIONS_EMAIL_FROM,
		to: user.email,
		subject: SUBJECTS[purpose],
		text: texts[purpose],
		headers: {},
		tags: { tenant: user.tenant_id, purpose },
	};
}

export function invalidToken(): AppError {
	return new AppError(400, "invalid_token", "The token is invalid, expired or already used.");
}
