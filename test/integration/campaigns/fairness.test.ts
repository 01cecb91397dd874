import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../../src/index";
import { BASE, call, createTenant } from "../helpers";
import {
	addresses,
	createCampaign,
	createList,
	expectEachOnce,
	importRows,
	sandboxMessages,
	waitForStatus,
} from "./campaign-helpers";

describe("campaigns of several tenants at once", () => {
	it("sends two tenants' campaigns through the same queue concurrently, each recipient once", async () => {
		const tenants = await Promise.all([createTenant("a"), createTenant("b")]);
		const started = await Promise.all(
			tenants.map(async (t, i) => {
				const listId = await createList(t.apiKey);
				const rows = addresses(400 + i * 100, `t${i}-`);
				await importRows(t.apiKey, listId, { subscribers: rows });
				const id = await createCampaign(t.apiKey, listId);
				expect((await call("POST", `/api/v1/campaigns/${id}/send`, { token: t.apiKey })).status).toBe(202);
				return { ...t, id, emails: rows.map((r) => r.email) };
			}),
		);
		for (const s of started) {
			await waitForStatus(s.apiKey, s.id, "sent");
			expectEachOnce(await sandboxMessages(s.apiKey, s.id), s.emails);
		}
		// Each tenant's sandbox record is its own.
		const other = await call("GET", `/api/v1/email/sandbox/messages?campaign_id=${started[0]?.id ?? ""}`, {
			token: started[1]?.apiKey,
		});
		expect(await other.json()).toMatchObject({ messages: [] });
	});

	it("hides the sandbox record (404) when the sandbox is off", async () => {
		const { apiKey } = await createTenant();
		const req = new Request(`${BASE}/api/v1/email/sandbox/messages`, {
			headers: { Authorization: `Bearer ${apiKey}` },
		});
		const res = await app.fetch(req, { ...env, EMAIL_SANDBOX_ENABLED: "false" });
		expect(res.status).toBe(404);
	});
});
