import { exports } from "cloudflare:workers";
import { BASE, call } from "../helpers";

/** Logs in through the dashboard and returns the session cookie ("fg_session=…") and the raw Set-Cookie. */
export async function login(token: string): Promise<{ cookie: string; setCookie: string; status: number }> {
	const res = await call("POST", "/api/v1/dashboard/session", { body: { token } });
	const setCookie = res.headers.get("Set-Cookie") ?? "";
	await res.body?.cancel();
	return { cookie: setCookie.split(";")[0] ?? "", setCookie, status: res.status };
}

/** A request carrying only the session cookie (and, for changes, the Origin a browser would send). */
export function withSession(
	method: string,
	path: string,
	cookie: string,
	init: { origin?: string; body?: unknown } = {},
): Promise<Response> {
	const headers = new Headers({ Cookie: cookie });
	if (init.origin) headers.set("Origin", init.origin);
	if (init.body !== undefined) headers.set("Content-Type", "application/json");
	const body = init.body === undefined ? undefined : JSON.stringify(init.body);
	return exports.default.fetch(new Request(`${BASE}${path}`, { method, headers, body }));
}
