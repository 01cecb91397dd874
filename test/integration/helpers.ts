import { exports } from "cloudflare:workers";
import { env } from "cloudflare:workers";

export const BASE = "http://floodgate.test";

export type Json = Record<string, unknown>;

/** Sends a request through the Worker's real fetch handler (all middleware, real bindings). */
export async function call(
	method: string,
	path: string,
	init: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
	const headers = new Headers(init.headers);
	if (init.token) headers.set("Authorization", `Bearer ${init.token}`);
	let body: string | undefined;
	if (init.body !== undefined) {
		body = typeof init.body === "string" ? init.body : JSON.stringify(init.body);
		if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
	}
	return exports.default.fetch(new Request(`${BASE}${path}`, { method, headers, body }));
}

export function admin(method: string, path: string, body?: unknown): Promise<Response> {
	return call(method, `/api/v1/admin${path}`, { token: env.ADMIN_TOKEN, body });
}

export async function json(res: Response): Promise<Json> {
	return res.json<Json>();
}

/** Creates a tenant through the admin API; returns its id, first API key and first signing secret. */
export async function createTenant(
	name = "acme",
): Promise<{ tenantId: string; apiKey: string; signingSecret: string }> {
	const res = await admin("POST", "/tenants", { name });
	if (res.status !== 201) throw new Error(`tenant creation failed: ${res.status} ${await res.text()}`);
	const body = await json(res);
	return { tenantId: String(body.tenant_id), apiKey: String(body.api_key), signingSecret: String(body.signing_secret) };
}

/** Replaces a tenant's gateway limits. */
export async function setLimits(tenantId: string, rules: unknown[]): Promise<void> {
	const res = await admin("PUT", `/tenants/${tenantId}/limits`, { rules });
	if (res.status !== 200) throw new Error(`limits failed: ${res.status} ${await res.text()}`);
}

export function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}
