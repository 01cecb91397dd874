import { expect, vi } from "vitest";
import { call } from "../helpers";

export type ErrorJson = { error: { code: string; message: string; details?: Record<string, unknown> } };
export type Seen = { url: string; method: string; headers: Headers; body: string };
export type Upstream = (req: Request) => Response | Promise<Response>;

export const A = "https://upstream-a.example";
export const B = "https://upstream-b.example";

/** A route body with one or more upstreams and everything else at its defaults. */
export function routeBody(prefix: string, upstreams: string[], extra: Record<string, unknown> = {}) {
	return { path_prefix: prefix, upstreams: upstreams.map((url) => ({ url, weight: 1 })), auth: "none", ...extra };
}

export function putRoute(apiKey: string, name: string, body: Record<string, unknown>): Promise<Response> {
	return call("PUT", `/api/v1/gateway/routes/${name}`, { token: apiKey, body });
}

export async function mustPutRoute(apiKey: string, name: string, body: Record<string, unknown>): Promise<void> {
	const res = await putRoute(apiKey, name, body);
	expect(res.status, await res.clone().text()).toBe(200);
}

/** A request to the gateway's public traffic path. */
export function gw(
	tenantId: string,
	path: string,
	init: { method?: string; token?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
	return call(init.method ?? "GET", `/gw/${tenantId}${path}`, {
		...(init.token === undefined ? {} : { token: init.token }),
		...(init.body === undefined ? {} : { body: init.body }),
		headers: init.headers ?? {},
	});
}

/**
 * Intercepts outbound fetches to the *.example upstreams (third parties); every other fetch stays
 * real. Each upstream is answered by its handler in `upstreams`, keyed by origin.
 */
export function interceptUpstreams(upstreams: Record<string, Upstream>): Seen[] {
	const seen: Seen[] = [];
	const real = globalThis.fetch;
	vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
		const req = new Request(input, init);
		const origin = new URL(req.url).origin;
		const handler = upstreams[origin];
		if (!origin.endsWith(".example")) return real(input, init);
		const body = req.method === "GET" || req.method === "HEAD" ? "" : await req.clone().text();
		seen.push({ url: req.url, method: req.method, headers: req.headers, body });
		if (!handler) throw new TypeError(`fetch failed: no upstream at ${origin}`);
		return handler(req);
	});
	return seen;
}

export function ok(text = "ok", headers: Record<string, string> = {}): Response {
	return new Response(text, { status: 200, headers: { "Content-Type": "text/plain", ...headers } });
}

export async function errorCode(res: Response): Promise<string> {
	return (await res.json<ErrorJson>()).error.code;
}

/** Which upstream answered, by its body ("a" or "b"). */
export async function answers(tenantId: string, path: string, n: number): Promise<string[]> {
	const out: string[] = [];
	for (let i = 0; i < n; i++) {
		const res = await gw(tenantId, path);
		out.push(`${res.status}:${await res.text()}`);
	}
	return out;
}
