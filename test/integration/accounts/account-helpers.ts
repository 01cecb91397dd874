import { expect } from "vitest";
import { call } from "../helpers";

export type Tokens = {
	access_token: string;
	refresh_token: string;
	session_id: string;
	expires_in: number;
	expires_at: number;
};
export type ErrorJson = { error: { code: string; message: string } };

/** A fresh client address per caller, so tests never share a per-IP login or signup bucket. */
export function randomIp(): string {
	const b = crypto.getRandomValues(new Uint8Array(3));
	return `10.${b[0]}.${b[1]}.${b[2]}`;
}

/** A request of an end user: the tenant header, an access token and a client IP as asked. */
export function authCall(
	method: string,
	path: string,
	init: { tenant?: string; token?: string; body?: unknown; ip?: string; userAgent?: string } = {},
): Promise<Response> {
	const headers: Record<string, string> = { "CF-Connecting-IP": init.ip ?? randomIp() };
	if (init.tenant) headers["Floodgate-Tenant"] = init.tenant;
	if (init.userAgent) headers["User-Agent"] = init.userAgent;
	return call(method, path, { token: init.token, body: init.body, headers });
}

export function uniqueName(prefix = "user"): string {
	return `${prefix}${crypto.randomUUID().slice(0, 8)}`;
}

export const PASSWORD = "correct horse battery staple";

/** Signs a new user up (unique name) and returns its login and first tokens. */
export async function signUp(
	tenantId: string,
	password = PASSWORD,
	client: { ip?: string; userAgent?: string; email?: string } = {},
): Promise<{ username: string; email: string; userId: string; tokens: Tokens }> {
	const username = uniqueName();
	const email = client.email ?? `${username}@example.com`;
	const res = await authCall("POST", "/api/v1/auth/signup", {
		tenant: tenantId,
		body: { username, email, password },
		...(client.ip === undefined ? {} : { ip: client.ip }),
		...(client.userAgent === undefined ? {} : { userAgent: client.userAgent }),
	});
	expect(res.status).toBe(201);
	const body = await res.json<{ user: { id: string }; tokens: Tokens }>();
	return { username, email, userId: body.user.id, tokens: body.tokens };
}

export async function logIn(tenantId: string, login: string, extra: Record<string, string> = {}, ip?: string) {
	return authCall("POST", "/api/v1/auth/login", {
		tenant: tenantId,
		body: { login, password: PASSWORD, ...extra },
		...(ip === undefined ? {} : { ip }),
	});
}

export async function errorCode(res: Response): Promise<string> {
	return (await res.json<ErrorJson>()).error.code;
}
