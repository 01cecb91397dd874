import type { EmailEnv } from "../../../src/email/types";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import { moveCampaign } from "../../../src/campaigns/campaigns-db";
import { runTick } from "../../../src/campaigns/sender";
import { continueChain } from "../../../src/campaigns/service";
import type { Tick, TickHooks, TickResult } from "../../../src/campaigns/sender";
import { call, json, sleep } from "../helpers";
import type { Json } from "../helpers";

export async function createList(apiKey: string, name = "news"): Promise<string> {
	const res = await call("POST", "/api/v1/lists", { token: apiKey, body: { name } });
	expect(res.status, await res.clone().text()).toBe(201);
	return String((await json(res)).list_id);
}

export async function importRows(apiKey: string, listId: string, body: Json): Promise<Json> {
	const res = await call("POST", `/api/v1/lists/${listId}/subscribers:import`, { token: apiKey, body });
	expect(res.status, await res.clone().text()).toBe(200);
	return json(res);
}

export function addresses(n: number, prefix = "user"): { email: string; first_name: string }[] {
	return Array.from({ length: n }, (_, i) => ({ email: `${prefix}${i}@example.com`, first_name: `Name${i}` }));
}

export async function createCampaign(apiKey: string, listId: string, extra: Json = {}): Promise<string> {
	const res = await call("POST", "/api/v1/campaigns", {
		token: apiKey,
		body: {
			name: "Launch",
			list_id: listId,
			from: "News <news@example.com>",
			subject: "Hello {{first_name}}",
			text: "Hi {{first_name}}, unsubscribe: {{unsubscribe_url}}",
			...extra,
		},
	});
	expect(res.status, await res.clone().text()).toBe(201);
	return String((await json(res)).campaign_id);
}

export async function getCampaignJson(apiKey: string, id: string): Promise<Json> {
	const res = await call("GET", `/api/v1/campaigns/${id}`, { token: apiKey });
	expect(res.status).toBe(200);
	return json(res);
}

/** Moves a draft to sending with a chain of our own, without enqueueing (the test drives the ticks). */
export async function startManually(tenantId: string, campaignId: string, total: number): Promise<Tick> {
	const tick = { tenant_id: tenantId, campaign_id: campaignId, chain: `chn_test_${crypto.randomUUID()}` };
	expect(await moveCampaign(env.DB, tenantId, campaignId, "draft", "sending", tick.chain, Date.now(), total)).toBe(
		true,
	);
	return tick;
}

/** Runs ticks of one chain until it stops (ignoring the delays it asks for, up to `maxTicks`). */
export async function driveTicks(
	tick: Tick,
	runEnv: EmailEnv = env,
	hooks: TickHooks = {},
	maxTicks = 50,
): Promise<TickResult> {
	for (let i = 0; i < maxTicks; i++) {
		const result = await runTick(runEnv, tick, hooks);
		if (result.next === "stop") {
			await continueChain(runEnv, tick, result);
			return result;
		}
		if (result.delayMs > 0) await sleep(Math.min(result.delayMs, 2500));
	}
	throw new Error("chain did not stop");
}

export async function sandboxMessages(apiKey: string, campaignId: string): Promise<Json[]> {
	const out: Json[] = [];
	let cursor: string | null = null;
	do {
		const qs: string = `campaign_id=${campaignId}&limit=1000${cursor ? `&cursor=${cursor}` : ""}`;
		const res = await call("GET", `/api/v1/email/sandbox/messages?${qs}`, { token: apiKey });
		expect(res.status).toBe(200);
		const body = await json(res);
		out.push(...(body.messages as Json[]));
		cursor = typeof body.next_cursor === "string" ? body.next_cursor : null;
	} while (cursor);
	return out;
}

/** Each recipient exactly once: no duplicate and none of `expected` missing. */
export function expectEachOnce(messages: Json[], expected: readonly string[]): void {
	const recipients = messages.map((m) => String(m.recipient));
	expect(recipients.length).toBe(new Set(recipients).size);
	expect([...recipients].sort()).toEqual([...expected].sort());
}

export async function waitForStatus(apiKey: string, id: string, status: string, timeoutMs = 30_000): Promise<Json> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const body = await getCampaignJson(apiKey, id);
		if (body.status === status) return body;
		if (Date.now() > deadline) throw new Error(`campaign is ${String(body.status)}, not ${status}`);
		await sleep(200);
	}
}
