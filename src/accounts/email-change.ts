import { sendEmail } from "../email/provider";
import type { EndUser } from "../platform/app-env";
import { newId, sha256Hex } from "../platform/crypto";
import { AppError } from "../platform/errors";
import { errorText, log } from "../platform/log";
import { emailTaken, findChangeToken, swapEmail } from "./email-change-db";
import { verifyPassword } from "./password";
import { invalidToken, mailToken } from "./recovery";
import type { Client } from "./service";
import {
	LOGIN_PER_ACCOUNT,
	LOGIN_PER_IP,
	forgetSession,
	invalidCredentials,
	requireTenant,
	target,
	throttle,
} from "./service";
import type { SecondFactor } from "./totp";
import { checkSecondFactor } from "./totp";
import type { UserRow } from "./users-db";
import { findUser } from "./users-db";

/**
 * Changing an end user's e-mail address (ASVS 4.0.3 3.7.1, 2.5.5): re-authenticated (password, and
 * the second factor when TOTP is on), confirmed from the new address with a single-use hashed code
 * bound to the asking session, swapped atomically, then the OLD address is told (routes send that
 * notice). Whether the new address belongs to another account is never told to the asker.
 */

export type EmailChangeRequest = { newEmail: string; password: string } & SecondFactor;
export type EmailChanged = { userId: string; oldEmail: string; newEmail: string; revoked: string[] };

/** Change requests that pass re-authentication, per user: each one sends a mail to an address the user typed. */
const CHANGE_PER_USER = {
	name: "email-change",
	algorithm: "token_bucket",
	limit: 3,
	windowSeconds: 900,
	burst: 3,
} as const;

export const TAKEN_SUBJECT = "Someone tried to use this e-mail address";

/**
 * Re-authenticates the user (the password counts against the account's login bucket, as a login
 * does) and accepts the change. Whether the new address is free is looked up in `background`
 * (after the answer): free, it gets a confirmation code; taken by another account of the tenant,
 * it gets a notice instead, so neither the answer nor its timing tells the asker.
 */
export async function requestEmailChange(
	env: Env,
	who: EndUser,
	input: EmailChangeRequest,
	background: (work: Promise<unknown>) => void,
	now = Date.now(),
): Promise<void> {
	const user = await findUser(env.DB, who.tenantId, who.userId);
	if (!user) throw new AppError(404, "not_found", "No such user.");
	await throttle(env, [target(`acct:login:account:${who.tenantId}:${user.username}`, LOGIN_PER_ACCOUNT)]);
	if (!verifyPassword(input.password, user.password_hash).ok) throw invalidCredentials();
	await checkSecondFactor(env, user, input, now);
	if (input.newEmail === user.email)
		throw new AppError(409, "same_email", "That is already the e-mail address of this account.");
	await throttle(env, [target(`acct:email-change:user:${who.tenantId}:${who.userId}`, CHANGE_PER_USER)]);
	log.info("e-mail change asked", { tenant_id: who.tenantId, user_id: who.userId });
	background(
		mailNewAddress(env, user, input.newEmail, who.sessionId, now).catch((err: unknown) =>
			log.warn("e-mail change mail failed", { tenant_id: who.tenantId, user_id: who.userId, error: errorText(err) }),
		),
	);
}

/**
 * Swaps the address with a code from the confirmation mail: 400 invalid_token when the code is
 * unknown, expired, used, superseded, another tenant's, or its session ended; 409 email_taken
 * when another account took the address meanwhile (nothing is written; the code stays unspent).
 */
export async function confirmEmailChange(
	env: Env,
	tenantId: string,
	token: string,
	client: Client,
	now = Date.now(),
): Promise<EmailChanged> {
	await throttle(env, [target(`acct:token:ip:${client.ip}`, LOGIN_PER_IP)]);
	await requireTenant(env.DB, tenantId);
	const tokenHash = await sha256Hex(token);
	const found = await findChangeToken(env.DB, tenantId, tokenHash, now);
	const user = found ? await findUser(env.DB, tenantId, found.user_id) : null;
	if (!found || !user || found.session_id === null) throw invalidToken();
	const swap = { tenantId, tokenHash, userId: user.id, email: found.email, sessionId: found.session_id };
	const { spent, revoked } = await swapEmail(env.DB, swap, now);
	if (!spent) {
		if (await emailTaken(env.DB, tenantId, found.email))
			throw new AppError(409, "email_taken", "Another account has registered this e-mail address meanwhile.");
		throw invalidToken();
	}
	for (const id of revoked) forgetSession(tenantId, id);
	log.info("e-mail changed", { tenant_id: tenantId, user_id: user.id, sessions_revoked: revoked.length });
	return { userId: user.id, oldEmail: user.email, newEmail: found.email, revoked };
}

async function mailNewAddress(env: Env, user: UserRow, newEmail: string, sessionId: string, now: number) {
	if (await emailTaken(env.DB, user.tenant_id, newEmail)) {
		await sendEmail(env, user.tenant_id, takenMessage(env, user.tenant_id, newEmail), `acct:taken:${newId("evt")}`);
		return;
	}
	const recipient = { id: user.id, tenant_id: user.tenant_id, username: user.username, email: newEmail };
	if (!(await mailToken(env, recipient, "email_change", now, sessionId)))
		log.warn("e-mail change code not sent", { tenant_id: user.tenant_id, user_id: user.id });
}

/** To an address that already has an account: no code, no name of the asking account. */
function takenMessage(env: Env, tenantId: string, to: string) {
	return {
		from: env.NOTIFICATIONS_EMAIL_FROM,
		to,
		subject: TAKEN_SUBJECT,
		text:
			"Someone signed in to an account of this app asked to make this e-mail address the address of " +
			"their account. This address already belongs to an account, so nothing was changed.\n\n" +
			'If it was you: sign in with this address instead ("Forgot password" helps if needed). ' +
			"If it was not you, there is nothing to do.",
		headers: {},
		tags: { tenant: tenantId, purpose: "email_change_taken" },
	};
}
