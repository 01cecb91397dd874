import type { DestinationPolicy } from "./destination";
import { checkDestination } from "./destination";
import { withTimeout } from "./timeout";

/**
 * The one way the platform calls a URL it did not write itself (http jobs, webhooks, upstreams,
 * a card processor): every hop's destination checked, redirects followed by hand, a hard
 * deadline over the whole exchange, the answer read as a stream up to a byte cap.
 */

export type SafeFetchOptions = {
	method?: string;
	headers?: HeadersInit;
	body?: string | Uint8Array<ArrayBuffer> | null;
	policy: DestinationPolicy;
	timeoutMs: number;
	maxResponseBytes: number;
	maxRedirects?: number;
	/** The caller's own cancellation (a job's timeout, say), on top of `timeoutMs`. */
	signal?: AbortSignal;
	/** Where requests go (a service binding's fetch, say); the global fetch otherwise. */
	fetcher?: (request: Request) => Promise<Response>;
	/** "return": a 3xx comes back as it is instead of being followed (a proxy passes it on). */
	redirect?: "follow" | "return";
	/**
	 * Headers the platform wrote itself (a proxy's X-Forwarded-For from CF-Connecting-IP), set after
	 * the caller's forwarding headers were stripped, so a caller cannot forge them.
	 */
	trustedHeaders?: Record<string, string>;
};

export type SafeResponse = { status: number; headers: Headers; body: Uint8Array; truncated: boolean; url: string };

/** A destination the policy refuses (maps to 400 `destination_not_allowed` where input named it). */
export class DestinationRefusedError extends Error {
	override name = "DestinationRefusedError";
	constructor(
		readonly url: string,
		readonly reason: string,
	) {
		super(`destination not allowed: ${reason}`);
	}
}

const DEFAULT_MAX_REDIRECTS = 3;
// Never forwarded: connection-level headers, and credentials a caller must not smuggle through us.
const STRIPPED_HEADERS = [
	"connection",
	"keep-alive",
	"proxy-authenticate",
	"proxy-authorization",
	"proxy-connection",
	"te",
	"trailer",
	"transfer-encoding",
	"upgrade",
	"host",
	"content-length",
	"cookie",
	"forwarded",
	"x-real-ip",
];
const STRIPPED_PREFIXES = ["x-forwarded-", "cf-"];
/** Dropped when a redirect leaves the origin the caller named (as browsers do). */
const CROSS_ORIGIN_STRIPPED = ["authorization"];

export async function safeFetch(target: string, options: SafeFetchOptions): Promise<SafeResponse> {
	const caller = options.signal;
	return withTimeout(
		(signal) => exchange(target, options, caller ? AbortSignal.any([signal, caller]) : signal),
		options.timeoutMs,
		`fetch of ${originOf(target)}`,
	);
}

/** Headers as they leave the platform: hop-by-hop, forwarding and cookie headers removed. */
export function outboundHeaders(init: HeadersInit | undefined): Headers {
	const headers = new Headers(init);
	// A copy of the names: deleting while iterating a Headers skips entries.
	for (const name of Array.from(headers.keys())) {
		if (STRIPPED_HEADERS.includes(name) || STRIPPED_PREFIXES.some((p) => name.startsWith(p))) headers.delete(name);
	}
	return headers;
}

async function exchange(target: string, options: SafeFetchOptions, signal: AbortSignal): Promise<SafeResponse> {
	const send = options.fetcher ?? ((request: Request) => fetch(request));
	const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
	let url = target;
	let method = (options.method ?? "GET").toUpperCase();
	let body = options.body ?? null;
	const headers = outboundHeaders(options.headers);
	for (const [name, value] of Object.entries(options.trustedHeaders ?? {})) headers.set(name, value);
	const firstOrigin = originOf(target);
	for (let hop = 0; ; hop++) {
		const check = checkDestination(url, options.policy);
		if (!check.ok) throw new DestinationRefusedError(url, check.reason);
		if (check.url.origin !== firstOrigin) for (const name of CROSS_ORIGIN_STRIPPED) headers.delete(name);
		const res = await send(
			new Request(check.url, {
				method,
				headers,
				body: method === "GET" || method === "HEAD" ? null : body,
				redirect: "manual",
				signal,
			}),
		);
		const location = res.headers.get("Location");
		if (res.status >= 300 && res.status < 400 && location !== null && options.redirect !== "return") {
			await res.body?.cancel();
			if (hop >= maxRedirects) throw new DestinationRefusedError(url, `more than ${maxRedirects} redirects`);
			url = new URL(location, check.url).toString();
			// 303, and 301/302 after a POST, turn into a GET without a body (RFC 9110 15.4).
			if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST")) {
				method = "GET";
				body = null;
				headers.delete("content-type");
			}
			continue;
		}
		const { bytes, truncated } = await readCapped(res, options.maxResponseBytes);
		return { status: res.status, headers: res.headers, body: bytes, truncated, url: check.url.toString() };
	}
}

/** Reads at most `cap` bytes of the body as it streams in, then cancels the rest. */
export async function readCapped(res: Response, cap: number): Promise<{ bytes: Uint8Array; truncated: boolean }> {
	if (!res.body) return { bytes: new Uint8Array(0), truncated: false };
	const reader = res.body.getReader();
	const chunks: Uint8Array[] = [];
	let size = 0;
	let truncated = false;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		const room = cap - size;
		if (value.byteLength > room) {
			chunks.push(value.subarray(0, room));
			size += room;
			truncated = true;
			await reader.cancel();
			break;
		}
		chunks.push(value);
		size += value.byteLength;
	}
	const bytes = new Uint8Array(size);
	let offset = 0;
	for (const chunk of chunks) {
		bytes.set(chunk, offset);
		offset += chunk.byteLength;
	}
	return { bytes, truncated };
}

function originOf(url: string): string {
	try {
		return new URL(url).origin;
	} catch {
		return "an invalid URL";
	}
}
