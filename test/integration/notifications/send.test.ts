import { describe, expect, it } from "vitest";
import { call, createTenant } from "../helpers";
import type { Json } from "../helpers";
import { N, TEMPLATE, channel, getNotification, putTemplate, send, waitForNotification } from "./notifications-helpers";

type SandboxMail = { idempotency_key: string; recipient: string; subject: string; html: string | null };

async function mails(apiKey: string): Promise<SandboxMail[]> {
	const res = await call("GET", "/api/v1/email/sandbox/messages", { token: apiKey });
	expect(res.status).toBe(200);
	return (await res.json<{ messages: SandboxMail[] }>()).messages;
}

describe("notification templates", () => {
	it("stores a template per tenant and answers 404 to another tenant", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		await putTemplate(a.apiKey);
		const mine = await call("GET", `${N}/templates/order-shipped`, { token: a.apiKey });
		expect(await mine.json()).toMatchObject({ key: "order-shipped", category: "orders", channels: TEMPLATE.channels });
		expect((await call("GET", `${N}/templates/order-shipped`, { token: b.apiKey })).status).toBe(404);
		const sent = await call("POST", N, {
			token: b.apiKey,
			body: { recipient: { user_id: "u1" }, template: "order-shipped", data: { name: "A", order: 1 } },
		});
		expect(sent.status).toBe(404);
	});

	it("rejects a template that does not parse", async () => {
		const { apiKey } = await createTenant();
		const res = await call("PUT", `${N}/templates/bad`, {
			token: apiKey,
			body: { channels: { sms: { text: "{{#x}}" } } },
		});
		expect(res.status).toBe(400);
		expect(await res.json()).toMatchObject({ error: { code: "invalid_template" } });
	});

	it("answers 400 with the missing variables at send time, storing nothing", async () => {
		const { apiKey } = await createTenant();
		await putTemplate(apiKey);
		const res = await call("POST", N, {
			token: apiKey,
			body: { recipient: { user_id: "u1", email: "ann@example.com" }, template: "order-shipped", data: { order: 1 } },
		});
		expect(res.status).toBe(400);
		expect(await res.json()).toMatchObject({ error: { code: "missing_variables", details: { variables: ["name"] } } });
		expect(await mails(apiKey)).toEqual([]);
	});
});

describe("sending", () => {
	it("delivers email to the sandbox with the (notification, channel) idempotency key, HTML escaped", async () => {
		const { apiKey } = await createTenant();
		await putTemplate(apiKey);
		const id = await send(apiKey, {
			recipient: { user_id: "u-mail", email: "ann@example.com" },
			channels: ["email"],
			data: { name: "<Ann>", order: 7 },
		});
		const view = await waitForNotification(apiKey, id, (v) => channel(v, "email")?.status === "sent");
		expect(view.channels).toHaveLength(1);
		const [mail] = await mails(apiKey);
		expect(mail).toMatchObject({
			idempotency_key: `${id}:email`,
			recipient: "ann@example.com",
			subject: "Order 7 shipped",
		});
		expect(mail?.html).toBe("<p>Hi &lt;Ann&gt;</p>");
	});

	it("records SMS in the tenant's SMS sandbox, invisible to another tenant", async () => {
		const { apiKey } = await createTenant("a");
		const other = await createTenant("b");
		await putTemplate(apiKey);
		const id = await send(apiKey, { recipient: { user_id: "u-sms", phone: "+14155550123" }, channels: ["sms"] });
		await waitForNotification(apiKey, id, (v) => channel(v, "sms")?.status === "sent");
		const res = await call("GET", `${N}/sms-sandbox`, { token: apiKey });
		expect((await res.json<Json>()).messages).toEqual([
			expect.objectContaining({ idempotency_key: `${id}:sms`, to: "+14155550123", text: "Order 42 shipped" }),
		]);
		const theirs = await call("GET", `${N}/sms-sandbox`, { token: other.apiKey });
		expect((await theirs.json<Json>()).messages).toEqual([]);
		expect((await call("GET", `${N}/${id}`, { token: other.apiKey })).status).toBe(404);
	});

	it("answers a repeated idempotency_key with the first notification and sends once", async () => {
		const { apiKey } = await createTenant();
		await putTemplate(apiKey);
		const body = {
			recipient: { user_id: "u-idem", email: "bo@example.com" },
			channels: ["email"],
			idempotency_key: "k1",
		};
		const first = await send(apiKey, body);
		const again = await call("POST", N, {
			token: apiKey,
			body: { template: "order-shipped", data: { name: "B", order: 1 }, ...body },
		});
		expect(again.status).toBe(202);
		expect(await again.json()).toEqual({ notification_id: first, duplicate: true });
		await waitForNotification(apiKey, first, (v) => channel(v, "email")?.status === "sent");
		expect(await mails(apiKey)).toHaveLength(1);
	});

	it("refuses a channel the recipient has no address for", async () => {
		const { apiKey } = await createTenant();
		await putTemplate(apiKey);
		const res = await call("POST", N, {
			token: apiKey,
			body: {
				recipient: { user_id: "u1" },
				template: "order-shipped",
				data: { name: "A", order: 1 },
				channels: ["sms"],
			},
		});
		expect(res.status).toBe(400);
		expect(await res.json()).toMatchObject({ error: { code: "missing_address" } });
	});

	it("picks the template's channels the recipient can receive when none are named", async () => {
		const { apiKey } = await createTenant();
		await putTemplate(apiKey);
		const id = await send(apiKey, { recipient: { user_id: "u-any", email: "cy@example.com" } });
		const view = await getNotification(apiKey, id);
		expect(view.channels.map((c) => c.channel)).toEqual(["email", "in_app"]);
	});
});
