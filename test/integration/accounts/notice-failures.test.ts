import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { noticeFailures, notifyAccountChange } from "../../../src/accounts/notices";
import { noticeSubject } from "../../../src/accounts/notice-text";
import { call, createTenant, sleep } from "../helpers";
import { PASSWORD, randomIp, signUp } from "./account-helpers";

/**
 * A queue outage cannot be produced with Miniflare's local queue, so these tests hand the notice
 * code a stand-in queue that refuses the first `failures` sends, then passes on to the real one.
 */
function flakyQueue(failures: number): Queue {
	let left = failures;
	const refuse = () => Promise.reject(new Error("queue unavailable (simulated outage)"));
	return {
		metrics: () => env.NOTIFICATIONS_QUEUE.metrics(),
		send: (body, options) => (left-- > 0 ? refuse() : env.NOTIFICATIONS_QUEUE.send(body, options)),
		sendBatch: (messages, options) => (left-- > 0 ? refuse() : env.NOTIFICATIONS_QUEUE.sendBatch(messages, options)),
	};
}

async function subjectsTo(apiKey: string, address: string): Promise<string[]> {
	const res = await call("GET", "/api/v1/email/sandbox/messages?limit=1000", { token: apiKey });
	const { messages } = await res.json<{ messages: { recipient: string; subject: string }[] }>();
	return messages.filter((m) => m.recipient === address).map((m) => m.subject);
}

async function storedCount(tenantId: string, userId: string): Promise<number> {
	const row = await env.DB.prepare(
		"SELECT COUNT(*) AS n FROM notifications WHERE tenant_id = ? AND user_id = ? AND category = 'account_security'",
	)
		.bind(tenantId, userId)
		.first<{ n: number }>();
	return row?.n ?? 0;
}

describe("a notice that cannot be enqueued", () => {
	it("is tried once more with the same key: one notice is stored and mailed", async () => {
		const { tenantId, apiKey } = await createTenant();
		const u = await signUp(tenantId, PASSWORD, { ip: randomIp() });
		const event = {
			kind: "password_changed" as const,
			tenantId,
			userId: u.userId,
			client: { ip: "10.9.9.9", userAgent: null },
		};
		expect(await notifyAccountChange({ ...env, NOTIFICATIONS_QUEUE: flakyQueue(1) }, event)).toBe(true);
		expect(await storedCount(tenantId, u.userId)).toBe(1);
		const subject = noticeSubject("password_changed");
		for (let i = 0; i < 200 && !(await subjectsTo(apiKey, u.email)).includes(subject); i++) await sleep(50);
		await sleep(300);
		expect((await subjectsTo(apiKey, u.email)).filter((s) => s === subject)).toHaveLength(1);
	});

	it("never throws when the retry fails too: the failure is logged and counted", async () => {
		const { tenantId, apiKey } = await createTenant();
		const u = await signUp(tenantId, PASSWORD, { ip: randomIp() });
		const before = noticeFailures();
		const event = {
			kind: "totp_disabled" as const,
			tenantId,
			userId: u.userId,
			client: { ip: "10.9.9.9", userAgent: null },
		};
		expect(await notifyAccountChange({ ...env, NOTIFICATIONS_QUEUE: flakyQueue(2) }, event)).toBe(false);
		expect(noticeFailures()).toBe(before + 1);
		// Unknown users are not a failure: nothing to notify.
		const ghost = { ...event, userId: "usr_000000000000000000000000" };
		expect(await notifyAccountChange(env, ghost)).toBe(false);
		expect(noticeFailures()).toBe(before + 1);
		await sleep(500);
		expect(await subjectsTo(apiKey, u.email)).not.toContain(noticeSubject("totp_disabled"));
	});
});
