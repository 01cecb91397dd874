import type { Context } from "hono";
import { sendPlatformNotice } from "../notifications/service";
import type { AppEnv } from "../platform/app-env";
import { newId } from "../platform/crypto";
import { errorText, log } from "../platform/log";
import type { NoticeKind } from "./notice-text";
import { noticeSubject, noticeText } from "./notice-text";
import type { Client } from "./service";
import { findUser } from "./users-db";

/**
 * Security notices after account changes (ASVS 4.0.3 2.2.3, 2.5.5), sent through the notifications
 * feature: stored in D1 and put on its queue, then mailed by its delivery engine (retries, dead
 * letters) through the platform's e-mail provider, the sandbox locally. The change never waits for
 * the notice nor fails with it: routes hand it to `waitUntil` after the change is stored, and a
 * notice that cannot be stored or enqueued is logged and counted, not thrown.
 */

export type AccountEvent = {
	kind: NoticeKind;
	tenantId: string;
	userId: string;
	client: Client;
	/** Where the notice goes when not the user's current address (an address change warns the old one). */
	to?: string | undefined;
	/** email_changed: the new address, quoted masked. */
	newEmail?: string | undefined;
};

// Plain data (not an I/O object): notices this isolate failed to enqueue, for the log line.
let failures = 0;

/** Notices this isolate could not enqueue since it started. */
export function noticeFailures(): number {
	return failures;
}

/** Stores and enqueues the notice (to the user's current address unless `to`); never throws; false when not enqueued. */
export async function notifyAccountChange(env: Env, event: AccountEvent, now = Date.now()): Promise<boolean> {
	const fields = { tenant_id: event.tenantId, user_id: event.userId, kind: event.kind };
	try {
		const user = await findUser(env.DB, event.tenantId, event.userId);
		if (!user) return false;
		const notice = {
			userId: user.id,
			email: event.to ?? user.email,
			kind: event.kind,
			// One key per event: a second call resumes the stored notice instead of storing another.
			idempotencyKey: `account:${event.kind}:${newId("evt")}`,
			subject: noticeSubject(event.kind),
			text: noticeText({
				kind: event.kind,
				username: user.username,
				at: now,
				ip: event.client.ip,
				userAgent: event.client.userAgent,
				newEmail: event.newEmail,
			}),
		};
		try {
			await sendPlatformNotice(env, event.tenantId, notice, now);
		} catch (err) {
			// Stored but not enqueued, or not stored: once more with the same key (resumes or stores).
			log.warn("account notice retried", { ...fields, error: errorText(err) });
			await sendPlatformNotice(env, event.tenantId, notice, now);
		}
		return true;
	} catch (err) {
		failures += 1;
		log.error("account notice not enqueued", { ...fields, error: errorText(err), failures_in_isolate: failures });
		return false;
	}
}

/** The caller's address and device, as the session rows and notices record them. */
export function clientOf(c: Context<AppEnv>): Client {
	return { ip: c.req.header("CF-Connecting-IP") ?? "unknown", userAgent: c.req.header("User-Agent") ?? null };
}

/** Sends the notice after the answer (`waitUntil`): the change is already stored and answered. */
export function notifyAfter(
	c: Context<AppEnv>,
	kind: NoticeKind,
	tenantId: string,
	userId: string,
	extra: Pick<AccountEvent, "to" | "newEmail"> = {},
): void {
	c.executionCtx.waitUntil(notifyAccountChange(c.env, { kind, tenantId, userId, client: clientOf(c), ...extra }));
}
