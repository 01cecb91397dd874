import { describe, expect, it } from "vitest";
import { call, createTenant } from "../helpers";
import { N, channel, putTemplate, send, waitForNotification } from "./notifications-helpers";

type Inbox = {
	items: { id: string; title: string; body: string; link: string | null; read_at: string | null }[];
	unread: number;
	next_cursor: string | null;
};

async function inbox(apiKey: string, user: string, query = ""): Promise<Inbox> {
	const res = await call("GET", `${N}/users/${user}/inbox${query}`, { token: apiKey });
	expect(res.status, await res.clone().text()).toBe(200);
	return res.json<Inbox>();
}

async function deliverInApp(apiKey: string, user: string, order: number): Promise<string> {
	const id = await send(apiKey, { recipient: { user_id: user }, channels: ["in_app"], data: { name: "A", order } });
	await waitForNotification(apiKey, id, (v) => channel(v, "in_app")?.status === "delivered");
	return id;
}

describe("the in-app inbox", () => {
	it("lists newest first with the unread count, pages, marks one read and all read", async () => {
		const { apiKey } = await createTenant();
		await putTemplate(apiKey);
		const first = await deliverInApp(apiKey, "u-box", 1);
		const second = await deliverInApp(apiKey, "u-box", 2);
		const page1 = await inbox(apiKey, "u-box", "?limit=1");
		expect(page1).toMatchObject({
			unread: 2,
			items: [{ id: second, title: "Shipped", body: "Order 2 is on its way", link: "/orders/2" }],
		});
		const page2 = await inbox(apiKey, "u-box", `?limit=1&cursor=${encodeURIComponent(page1.next_cursor ?? "")}`);
		expect(page2.items.map((i) => i.id)).toEqual([first]);
		expect(page2.next_cursor).toBeNull();
		const read = await call("POST", `${N}/users/u-box/inbox/${first}/read`, { token: apiKey });
		expect(await read.json()).toEqual({ unread: 1 });
		expect((await call("POST", `${N}/users/u-box/inbox/ntf_${"0".repeat(24)}/read`, { token: apiKey })).status).toBe(
			404,
		);
		const all = await call("POST", `${N}/users/u-box/inbox/read-all`, { token: apiKey });
		expect(await all.json()).toEqual({ marked: 1 });
		const after = await inbox(apiKey, "u-box");
		expect(after.unread).toBe(0);
		expect(after.items.every((i) => i.read_at !== null)).toBe(true);
	});

	it("keeps each tenant's inbox of the same user id apart", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		await putTemplate(a.apiKey);
		const id = await deliverInApp(a.apiKey, "shared-user", 1);
		expect(await inbox(b.apiKey, "shared-user")).toEqual({ items: [], unread: 0, next_cursor: null });
		expect((await call("POST", `${N}/users/shared-user/inbox/${id}/read`, { token: b.apiKey })).status).toBe(404);
		expect((await inbox(a.apiKey, "shared-user")).unread).toBe(1);
	});

	it("streams a new notification to an open SSE connection", async () => {
		const { apiKey } = await createTenant();
		await putTemplate(apiKey);
		const res = await call("GET", `${N}/users/u-live/inbox/stream`, { token: apiKey });
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toBe("text/event-stream");
		const reader = (res.body ?? new ReadableStream<Uint8Array>()).getReader();
		const decoder = new TextDecoder();
		let text = "";
		const readUntil = async (needle: string) => {
			while (!text.includes(needle)) {
				const { value, done } = await reader.read();
				if (done) throw new Error(`stream ended before ${needle}: ${text}`);
				text += decoder.decode(value, { stream: true });
			}
		};
		await readUntil("event: ready");
		expect(text).toContain('data: {"unread":0}');
		const id = await send(apiKey, { recipient: { user_id: "u-live" }, channels: ["in_app"] });
		await readUntil(id);
		expect(text).toContain("event: notification");
		expect(text).toContain('"unread":1');
		await reader.cancel();
	});
});
