import { expect, vi } from "vitest";
import { Webhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";
import { call, sleep } from "../helpers";
import type { Json } from "../helpers";

export type Received = { url: string; headers: Headers; body: string; at: number };
export type Delivery = {
	delivery_id: string;
	next_attempt_at: string | null;
	last_status_code: number | null;
	endpoint_id: string;
	status: string;
	attempts: number;
	dead_reason: string | null;
	replay: boolean;
};
export type EventView = { event_id: string; type: string; payload: unknown; deliveries: Delivery[] };

export const RECEIVER = "https://hooks.example";

/**
 * Intercepts the Worker's outbound fetch to the third-party receiver `https://hooks.example/`
 * (a tenant's server); everything else goes to the real fetch.
 */
export function interceptReceiver(
	respond: (req: Request, seen: Received[]) => Promise<Response> | Response,
): Received[] {
	const seen: Received[] = [];
	const real = globalThis.fetch;
	vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
		const req = new Request(input, init);
		if (!req.url.startsWith(`${RECEIVER}/`)) return real(input, init);
		seen.push({ url: req.url, headers: new Headers(req.headers), body: await req.clone().text(), at: Date.now() });
		return respond(req, seen);
	});
	return seen;
}

export async function createEndpoint(apiKey: string, body: Json): Promise<{ id: string; secret: string } & Json> {
	const res = await call("POST", "/api/v1/webhooks/endpoints", { token: apiKey, body });
	expect(res.status, await res.clone().text()).toBe(201);
	const json = await res.json<Json>();
	return { ...json, id: String(json.id), secret: String(json.secret) };
}

export async function publish(apiKey: string, type: string, payload: unknown, extra: Json = {}): Promise<string> {
	const res = await call("POST", "/api/v1/webhooks/events", { token: apiKey, body: { type, payload, ...extra } });
	expect(res.status, await res.clone().text()).toBe(202);
	return String((await res.json<Json>()).event_id);
}

export async function getEvent(apiKey: string, id: string): Promise<EventView> {
	const res = await call("GET", `/api/v1/webhooks/events/${id}`, { token: apiKey });
	expect(res.status, await res.clone().text()).toBe(200);
	return res.json<EventView>();
}

/** Polls until `done` holds (queues run in the background of the test's workerd). */
export async function waitFor<T>(read: () => Promise<T>, done: (v: T) => boolean, ms = 8_000): Promise<T> {
	const until = Date.now() + ms;
	for (;;) {
		const value = await read();
		if (done(value)) return value;
		if (Date.now() > until) throw new Error(`timed out waiting; last: ${JSON.stringify(value)}`);
		await sleep(50);
	}
}

export function verifiesStandard(secret: string, r: Pick<Received, "body" | "headers">): boolean {
	try {
		new Webhook(secret).verify(r.body, Object.fromEntries(r.headers));
		return true;
	} catch {
		return false;
	}
}

export function verifiesSvix(secret: string, r: Pick<Received, "body" | "headers">): boolean {
	try {
		new SvixWebhook(secret).verify(r.body, Object.fromEntries(r.headers));
		return true;
	} catch {
		return false;
	}
}
