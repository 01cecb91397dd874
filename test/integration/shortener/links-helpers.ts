import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { BASE, call, sleep } from "../helpers";

/** Shared by the shortener's integration tests: create a link, follow it without following the redirect. */

export type Link = {
	slug: string;
	short_url: string;
	url: string;
	clicks: number;
	permanent: boolean;
	protected: boolean;
	tags: string[];
};
export type ErrorJson = { error: { code: string; details?: unknown } };

export function create(apiKey: string, body: unknown): Promise<Response> {
	return call("POST", "/api/v1/links", { token: apiKey, body });
}

export async function mustCreate(apiKey: string, body: Record<string, unknown>): Promise<Link> {
	const res = await create(apiKey, body);
	expect(res.status).toBe(201);
	return res.json<Link>();
}

/** The public redirect, not followed; `headers` and `cf` describe the visitor. */
export function visit(
	slug: string,
	init: { query?: string; headers?: Record<string, string>; cf?: { country: string }; form?: string } = {},
): Promise<Response> {
	const headers = new Headers({ "CF-Connecting-IP": "203.0.113.9", ...init.headers });
	if (init.form !== undefined) headers.set("Content-Type", "application/x-www-form-urlencoded");
	const request = new Request(`${BASE}/s/${slug}${init.query ?? ""}`, {
		method: init.form === undefined ? "GET" : "POST",
		headers,
		body: init.form,
		redirect: "manual",
		...(init.cf ? { cf: init.cf } : {}),
	});
	return exports.default.fetch(request);
}

export async function errorCode(res: Response): Promise<string> {
	return (await res.json<ErrorJson>()).error.code;
}

export function uniqueSlug(prefix: string): string {
	return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** Polls the link until its counted clicks reach `want` (the queue consumer runs within ~1-2 s). */
export async function waitForClicks(apiKey: string, slug: string, want: number): Promise<number> {
	let clicks = 0;
	for (let waited = 0; waited < 8000 && clicks < want; waited += 200) {
		await sleep(200);
		clicks = (await (await call("GET", `/api/v1/links/${slug}`, { token: apiKey })).json<Link>()).clicks;
	}
	return clicks;
}
