import { expect } from "vitest";
import { call, sleep } from "../helpers";
import type { Json } from "../helpers";

export const N = "/api/v1/notifications";

export type ChannelView = {
	channel: string;
	status: string;
	attempts: number;
	deliver_at: string;
	reason: string | null;
	last_error: string | null;
	digest_id: string | null;
};
export type NotificationView = { notification_id: string; priority: string; channels: ChannelView[] };

export const TEMPLATE = {
	category: "orders",
	channels: {
		email: {
			subject: "Order {{order}} shipped",
			text: "Hi {{name}}, order {{order}} shipped.",
			html: "<p>Hi {{name}}</p>",
		},
		sms: { text: "Order {{order}} shipped" },
		in_app: { title: "Shipped", body: "Order {{order}} is on its way", link: "/orders/{{order}}" },
	},
};

export async function putTemplate(apiKey: string, key = "order-shipped", body: Json = TEMPLATE): Promise<void> {
	const res = await call("PUT", `${N}/templates/${key}`, { token: apiKey, body });
	expect(res.status, await res.clone().text()).toBe(200);
}

export async function send(apiKey: string, body: Json): Promise<string> {
	const res = await call("POST", N, {
		token: apiKey,
		body: { template: "order-shipped", data: { name: "Ann", order: 42 }, ...body },
	});
	expect(res.status, await res.clone().text()).toBe(202);
	return String((await res.json<Json>()).notification_id);
}

export async function getNotification(apiKey: string, id: string): Promise<NotificationView> {
	const res = await call("GET", `${N}/${id}`, { token: apiKey });
	expect(res.status, await res.clone().text()).toBe(200);
	return res.json<NotificationView>();
}

export function channel(view: NotificationView, name: string): ChannelView | undefined {
	return view.channels.find((c) => c.channel === name);
}

/** Polls the notification until `done` holds (the queue runs in the background of the test's workerd). */
export async function waitForNotification(
	apiKey: string,
	id: string,
	done: (v: NotificationView) => boolean,
	ms = 8_000,
): Promise<NotificationView> {
	const until = Date.now() + ms;
	for (;;) {
		const view = await getNotification(apiKey, id);
		if (done(view)) return view;
		if (Date.now() > until) throw new Error(`timed out waiting; last: ${JSON.stringify(view)}`);
		await sleep(50);
	}
}
