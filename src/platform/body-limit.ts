import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { TrieRouter } from "hono/router/trie-router";
import type { AppEnv } from "./app-env";
import { AppError } from "./errors";

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;.*)?$/i;
const METHODS_WITH_BODY = new Set(["POST", "PUT", "PATCH"]);
const UTF8 = new TextDecoder();
/** Deepest nesting of arrays and objects a JSON body may have (parsers and validators recurse). */
export const MAX_JSON_DEPTH = 64;
const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export type JsonBodyOptions = {
	/** Paths (exact) whose bodies may reach MAX_BULK_BODY_BYTES instead, e.g. bulk registration. */
	bulkPaths?: readonly string[];
	/**
	 * Path patterns (Hono's syntax, matched by Hono's TrieRouter as `except` from hono/combine would)
	 * whose requests pass untouched: they bring their own body checks (tus uploads, say). Checked here
	 * rather than wrapped in `except`, whose some/every/compose layers ran on every request.
	 */
	exceptPaths?: readonly string[];
};

/**
 * For requests that carry a body: over MAX_BODY_BYTES → 413 (streamed bodies are counted as they
 * arrive), a non-JSON content type → 415, arrays and objects nested deeper than MAX_JSON_DEPTH →
 * 400 `validation_failed` (scanned on the raw bytes before anything parses them: a parser, a
 * validator or a canonicaliser that recurses would otherwise overflow the stack and answer 500).
 * Malformed JSON is left to the validator (400).
 */
export function jsonBody(options: JsonBodyOptions = {}): MiddlewareHandler<AppEnv> {
	const bulkPaths = new Set(options.bulkPaths ?? []);
	const excepted = pathMatcher(options.exceptPaths ?? []);
	// One bodyLimit middleware per size (the size comes from env, known only per request).
	const limiters = new Map<number, MiddlewareHandler<AppEnv>>();
	const limiterFor = (maxSize: number): MiddlewareHandler<AppEnv> => {
		let limiter = limiters.get(maxSize);
		if (limiter === undefined) {
			limiter = bodyLimit({
				maxSize,
				onError: () => {
					throw new AppError(413, "payload_too_large", `Request bodies are limited to ${maxSize} bytes.`, {
						max_bytes: maxSize,
					});
				},
			});
			limiters.set(maxSize, limiter);
		}
		return limiter;
	};
	return async function jsonBodyMiddleware(c, next) {
		if (!METHODS_WITH_BODY.has(c.req.method) || excepted(c.req.path)) return next();
		const hasBody = c.req.header("Content-Length") !== "0" && c.req.raw.body !== null;
		const type = c.req.header("Content-Type");
		if (hasBody && (type === undefined || !JSON_TYPE.test(type))) {
			throw new AppError(
				415,
				"unsupported_media_type",
				`Expected Content-Type: application/json, got ${type ?? "none"}.`,
			);
		}
		const maxSize = Number(bulkPaths.has(c.req.path) ? c.env.MAX_BULK_BODY_BYTES : c.env.MAX_BODY_BYTES);
		return limiterFor(maxSize)(c, async () => {
			// Read as bytes (cached by Hono): request signing hashes the very same bytes later.
			if (hasBody && jsonDepthExceeds(new Uint8Array(await c.req.arrayBuffer()), MAX_JSON_DEPTH)) {
				throw new AppError(
					400,
					"validation_failed",
					`Invalid json: arrays and objects may be nested at most ${MAX_JSON_DEPTH} deep.`,
					{ fields: [{ path: "(root)", message: `nested deeper than ${MAX_JSON_DEPTH}` }], max_depth: MAX_JSON_DEPTH },
				);
			}
			await next();
		});
	};
}

/**
 * The request body parsed as JSON, from the bytes jsonBody has already read and Hono keeps:
 * `c.req.json()` gives the same value (UTF-8, a BOM dropped, SyntaxError when malformed) but builds
 * a Response around those bytes to decode them again, which showed in the ingest profile.
 */
export async function readJson(c: Context): Promise<unknown> {
	return JSON.parse(await readText(c));
}

/** The request body as text, from the same cached bytes (`c.req.text()` would wrap them in a new Response). */
export async function readText(c: Context): Promise<string> {
	return UTF8.decode(await c.req.arrayBuffer());
}

/** Whether a path matches one of `patterns`, the way hono/combine's `except` decides it. */
function pathMatcher(patterns: readonly string[]): (path: string) => boolean {
	if (patterns.length === 0) return () => false;
	const router = new TrieRouter<true>();
	for (const pattern of patterns) router.add("ALL", pattern, true);
	return (path) => router.match("ALL", path)[0].length > 0;
}

/**
 * Whether `bytes` (UTF-8 JSON text, possibly malformed) opens more than `max` arrays or objects
 * inside each other, brackets within strings not counted. One pass, no parsing, no recursion.
 */
export function jsonDepthExceeds(bytes: Uint8Array, max: number): boolean {
	let depth = 0;
	let inString = false;
	for (let i = 0; i < bytes.length; i++) {
		const b = bytes[i];
		if (inString) {
			if (b === BACKSLASH) i++;
			else if (b === QUOTE) inString = false;
		} else if (b === QUOTE) inString = true;
		else if (b === OPEN_BRACKET || b === OPEN_BRACE) {
			if (++depth > max) return true;
		} else if ((b === CLOSE_BRACKET || b === CLOSE_BRACE) && depth > 0) depth--;
	}
	return false;
}
