import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { handleTelemetryBatch } from "../../../queues/telemetry";
import { handleTelemetryDlqBatch } from "../../../queues/telemetry-dlq";
import { createTenant } from "../helpers";
import { countRows, locationsMessage, point } from "./telemetry-helpers";

type Delivery = { body: unknown; attempts: number; id: string };

/** Runs one consumer on a batch; records each retry's delay (getQueueResult does not report it). */
async function deliver(queue: "floodgate-telemetry" | "floodgate-telemetry-dlq", deliveries: Delivery[]) {
	const batch = createMessageBatch(
		queue,
		deliveries.map((d) => ({ id: d.id, timestamp: new Date(), attempts: d.attempts, body: d.body })),
	);
	const delays: Record<string, number | undefined> = {};
	for (const msg of batch.messages) {
		const retry = msg.retry.bind(msg);
		msg.retry = (options) => {
			delays[msg.id] = options?.delaySeconds;
			retry(options);
		};
	}
	const ctx = createExecutionContext();
	if (queue === "floodgate-telemetry") await handleTelemetryBatch(batch, env, ctx);
	else await handleTelemetryDlqBatch(batch, env, ctx);
	return { ...(await getQueueResult(batch, ctx)), delays };
}

/** A D1 outage for one table: renamed away, renamed back after the test. */
const moved: string[] = [];
async function takeAway(table: string): Promise<void> {
	await env.DB.exec(`ALTER TABLE ${table} RENAME TO ${table}_away`);
	moved.push(table);
}
afterEach(async () => {
	for (const table of moved.splice(0)) await env.DB.exec(`ALTER TABLE ${table}_away RENAME TO ${table}`);
});

describe("telemetry during a D1 outage", () => {
	it("retries every message of the main queue with growing delays and acks none", async () => {
		const { tenantId } = await createTenant();
		await takeAway("truck_locations");
		const result = await deliver(
			"floodgate-telemetry",
			[1, 5, 9, 12].map((attempts) => ({
				body: locationsMessage(tenantId, [point(`t${attempts}`)]),
				attempts,
				id: `m${attempts}`,
			})),
		);
		expect(result.explicitAcks).toEqual([]);
		expect(result.ackAll).toBe(false);
		expect(result.retryMessages.map((m) => m.msgId)).toEqual(["m1", "m5", "m9", "m12"]);
		expect(result.delays).toEqual({ m1: 2, m5: 32, m9: 512, m12: 900 });
	});

	it("acks no dead letter until it is stored, retrying each with growing delays", async () => {
		const { tenantId } = await createTenant();
		const letters = [1, 4, 10, 60].map((attempts) => ({
			body: locationsMessage(tenantId, [point(`d${attempts}`)]),
			attempts,
			id: `dead-${attempts}`,
		}));
		await takeAway("dead_letters");
		const during = await deliver("floodgate-telemetry-dlq", letters);
		expect(during.ackAll).toBe(false);
		expect(during.explicitAcks).toEqual([]);
		expect(during.retryMessages.map((m) => m.msgId)).toEqual(["dead-1", "dead-4", "dead-10", "dead-60"]);
		expect(during.delays).toEqual({ "dead-1": 2, "dead-4": 16, "dead-10": 900, "dead-60": 900 });

		// D1 is back: the redelivery stores all of them, then acks.
		await env.DB.exec("ALTER TABLE dead_letters_away RENAME TO dead_letters");
		moved.splice(0);
		const after = await deliver(
			"floodgate-telemetry-dlq",
			letters.map((l) => ({ ...l, attempts: l.attempts + 1 })),
		);
		expect(after.ackAll).toBe(true);
		expect(after.retryMessages).toEqual([]);
		expect(await countRows("SELECT COUNT(*) AS n FROM dead_letters WHERE tenant_id = ?", tenantId)).toBe(4);
	});

	it("stores the dead letters it can and retries only the one it cannot", async () => {
		const { tenantId } = await createTenant();
		// One letter D1 refuses (a trigger stands in for whatever makes one row fail).
		await env.DB.exec(
			"CREATE TRIGGER refuse_poison BEFORE INSERT ON dead_letters WHEN NEW.message_id = 'msg_poison' BEGIN SELECT RAISE(ABORT, 'poison'); END",
		);
		try {
			const result = await deliver("floodgate-telemetry-dlq", [
				{ body: locationsMessage(tenantId, [point("g1")]), attempts: 1, id: "ok" },
				{ body: locationsMessage(tenantId, [point("g2")], "msg_poison"), attempts: 3, id: "bad" },
			]);
			expect(result.explicitAcks).toEqual(["ok"]);
			expect(result.retryMessages.map((m) => m.msgId)).toEqual(["bad"]);
			expect(result.delays).toEqual({ bad: 8 });
			expect(await countRows("SELECT COUNT(*) AS n FROM dead_letters WHERE tenant_id = ?", tenantId)).toBe(1);
		} finally {
			await env.DB.exec("DROP TRIGGER refuse_poison");
		}
	});
});
