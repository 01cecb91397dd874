import { expect } from "vitest";
import { call } from "../helpers";

export type Grant = {
	name: string;
	owner: string;
	token: number;
	mode: "exclusive" | "shared";
	granted_at: number;
	expires_at: number;
	waited_ms: number;
};
export type ErrorJson = { error: { code: string; message: string; details?: Record<string, unknown> } };

let lockCounter = 0;

/** A lock name no other test uses (objects persist across the tests of a file). */
export function uniqueLock(prefix = "lock"): string {
	return `${prefix}-${Date.now().toString(36)}-${lockCounter++}`;
}

export function acquire(apiKey: string, name: string, body: Record<string, unknown>): Promise<Response> {
	return call("POST", `/api/v1/locks/${name}/acquire`, { token: apiKey, body });
}

/** Acquires and expects a grant. */
export async function mustAcquire(apiKey: string, name: string, body: Record<string, unknown>): Promise<Grant> {
	const res = await acquire(apiKey, name, body);
	if (res.status !== 200)
		throw new Error(`acquire ${name} for ${String(body.owner)}: ${res.status} ${await res.text()}`);
	return res.json<Grant>();
}

export function renew(apiKey: string, name: string, body: Record<string, unknown>): Promise<Response> {
	return call("POST", `/api/v1/locks/${name}/renew`, { token: apiKey, body });
}

export function release(apiKey: string, name: string, owner: string, token: number): Promise<Response> {
	return call("POST", `/api/v1/locks/${name}/release`, { token: apiKey, body: { owner, token } });
}

/** Releases and expects `released: true`; returns the object's release time. */
export async function mustRelease(apiKey: string, name: string, grant: Grant): Promise<number> {
	const res = await release(apiKey, name, grant.owner, grant.token);
	expect(res.status).toBe(200);
	const body = await res.json<{ released: boolean; released_at: number }>();
	expect(body.released).toBe(true);
	return body.released_at;
}

export async function lockState(apiKey: string, name: string): Promise<Record<string, unknown>> {
	const res = await call("GET", `/api/v1/locks/${name}`, { token: apiKey });
	expect(res.status).toBe(200);
	return res.json<Record<string, unknown>>();
}

export function writeGuarded(
	apiKey: string,
	name: string,
	key: string,
	token: number,
	value: unknown,
): Promise<Response> {
	return call("PUT", `/api/v1/locks/${name}/guarded/${key}`, {
		token: apiKey,
		body: { value },
		headers: { "Fencing-Token": String(token) },
	});
}

export function readGuarded(apiKey: string, name: string, key: string): Promise<Response> {
	return call("GET", `/api/v1/locks/${name}/guarded/${key}`, { token: apiKey });
}

export async function errorCode(res: Response): Promise<string> {
	return (await res.json<ErrorJson>()).error.code;
}
