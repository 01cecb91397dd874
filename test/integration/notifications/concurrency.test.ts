import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { handleNotificationsBatch } from "../../../queues/notifications";
import { MAX_SIMULTANEOUS_CONNECTIONS } from "../../../src/delivery/pool";
import { createTenant, sleep } from "../helpers";
import { putTemplate, send } from "./notifications-helpers";

const SMS_PROVIDER = "https://sms.example";
const DELIVERIES = 14;

afterEach(() => vi.restoreAllMocks());

/**
 * The SMS provider (a third party behind NOTIFICATIONS_SMS_PROVIDER_URL), intercepted at its
 * hostname: it holds every request for `holdMs` and counts how many are open at once.
 */
function slowProvider(holdMs: number): { seen: string[]; maxInFlight: () => number } {
	const seen: string[] = [];
	let inFlight = 0;
	let max = 0;
	const real = globalThis.fetch;
	vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
		const req = new Request(input, init);
		if (!req.url.startsWith(`${SMS_PROVIDER}/`)) return real(input, init);
		inFlight++;
		max = Math.max(max, inFlight);
		try {
			seen.push(req.headers.get("idempotency-key") ?? "");
			await sleep(holdMs);
			return new Response("{}", { status: 200 });
		} finally {
			inFlight--;
		}
	});
	return { seen, maxInFlight: () => max };
}

describe("the notifications consumer's outbound connections", () => {
	it("never has more than 6 deliveries in flight in one invocation, and sends each once", async () => {
		const { tenantId, apiKey } = await createTenant();
		await putTemplate(apiKey);
		// Due in an hour, so the background consumer leaves them alone; made due below.
		const later = new Date(Date.now() + 3_600_000).toISOString();
		for (let i = 0; i < DELIVERIES; i++) {
			await send(apiKey, {
				recipient: { user_id: `u-c${i}`, phone: `+1555000${String(i).padStart(4, "0")}` },
				channels: ["sms"],
				priority: "critical",
				deliver_after: later,
			});
		}
		await env.DB.prepare("UPDATE notification_deliveries SET deliver_at = ? WHERE tenant_id = ?")
			.bind(Date.now(), tenantId)
			.run();
		const { results } = await env.DB.prepare("SELECT id FROM notification_deliveries WHERE tenant_id = ?")
			.bind(tenantId)
			.all<{ id: string }>();
		expect(results).toHaveLength(DELIVERIES);

		const provider = slowProvider(150);
		const batch = createMessageBatch<unknown>(
			"floodgate-notifications",
			results.map((r, i) => ({
				id: `c${i}`,
				timestamp: new Date(),
				attempts: 1,
				body: { kind: "attempt", tenant_id: tenantId, delivery_id: r.id, attempt: 1, priority: "critical" },
			})),
		);
		// A real SMS provider instead of the built-in sandbox, for this invocation only. (Object.assign
		// types the override as Env's literal "sandbox"; the adapter only compares against it.)
		const withProvider = Object.assign({}, env, { NOTIFICATIONS_SMS_PROVIDER_URL: `${SMS_PROVIDER}/send` });
		const ctx = createExecutionContext();
		await handleNotificationsBatch(batch, withProvider, ctx);
		const result = await getQueueResult(batch, ctx);

		expect(result.retryMessages).toEqual([]);
		expect(result.explicitAcks).toHaveLength(DELIVERIES);
		expect(new Set(provider.seen).size).toBe(DELIVERIES);
		expect(provider.seen).toHaveLength(DELIVERIES);
		// The cap is reached (so the test can see it) and never passed.
		expect(MAX_SIMULTANEOUS_CONNECTIONS).toBe(6);
		expect(provider.maxInFlight()).toBe(MAX_SIMULTANEOUS_CONNECTIONS);
		const sent = await env.DB.prepare(
			"SELECT COUNT(*) AS n FROM notification_deliveries WHERE tenant_id = ? AND status = 'sent'",
		)
			.bind(tenantId)
			.first<{ n: number }>();
		expect(sent?.n).toBe(DELIVERIES);
	});
});
