import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv, TenantPrincipal } from "../../platform/app-env";
import type { Fingerprint, StoredResponse } from "./domain";
import {
	fingerprintBody,
	idempotencyKeySchema,
	MAX_REPLAY_BODY_CHARS,
	REPLAYED_HEADERS,
	retryAfterSeconds,
} from "./domain";
import { sha256Hex } from "../../platform/crypto";
import { readText } from "../../platform/body-limit";
import { AppError } from "../../platform/errors";
import { errorText, log } from "../../platform/log";
import { forgetReplay, recallReplay, rememberReplay } from "./replay-cache";
import { beginKey, keyHomes, shardPlan } from "./store";

export type IdempotencyOptions = {
	/** Reject requests without a key (400). Default false: without a key the request runs as usual. */
	required?: boolean;
	/** How long a completed record is replayed; default env IDEMPOTENCY_RETENTION_SECONDS (24 h). */
	retentionSeconds?: number;
	/** How long a running request holds the key before a retry may take over; default env IDEMPOTENCY_LOCK_SECONDS. */
	lockSeconds?: number;
	/** Methods the key applies to; GET, HEAD and DELETE are idempotent already and always ignored. */
	methods?: readonly ("POST" | "PUT" | "PATCH")[];
};

const PROBLEM = { "Content-Type": "application/problem+json" };

/**
 * Idempotency-Key (draft-ietf-httpapi-idempotency-key-header) for tenant routes; mount after
 * tenantAuth and the rate limiter and before validation, e.g. `.post("/", idempotency({ required: true }), validate(...), handler)`.
 * The first request with a key runs; repeats get its stored response with `Idempotent-Replayed: true`.
 * Handlers: throw (AppError) to reject without effect — the key is released; return a response
 * for an outcome that happened — 2xx and 4xx are stored, 5xx releases the key so a retry runs again.
 */
export function idempotency(options: IdempotencyOptions = {}): MiddlewareHandler<AppEnv> {
	const methods = new Set<string>(options.methods ?? ["POST"]);
	return async function idempotencyMiddleware(c, next) {
		if (!methods.has(c.req.method)) return next();
		const key = readKey(c);
		if (key === null) {
			if (options.required)
				throw problem(
					400,
					"idempotency_key_missing",
					"This route requires an Idempotency-Key header (1-255 characters).",
				);
			return next();
		}
		// Mounted twice (platform-wide and on the route): the outer instance already holds the key.
		if (c.get("idempotencyKey") !== undefined) return next();

		const scope = idempotencyScope(c.get("principal"), key);
		const body = fingerprintBody(await readText(c));
		// Hono's body cache: the route's validator reads c.req.json(), which would otherwise parse
		// the same text again through a new Response (~9 % of a fresh key's CPU, profiled).
		if (body.parsed !== null) c.req.bodyCache.json = Promise.resolve(body.parsed.value);
		const fingerprint: Fingerprint = {
			method: c.req.method,
			path: c.req.path,
			bodyHash: await sha256Hex(body.canonical),
		};
		const cached = recallReplay(scope, Date.now());
		if (cached) {
			assertSameRequest(cached.fingerprint, fingerprint);
			return replay(cached.response);
		}

		const retentionMs = 1000 * (options.retentionSeconds ?? Number(c.env.IDEMPOTENCY_RETENTION_SECONDS));
		const lockMs = 1000 * (options.lockSeconds ?? Number(c.env.IDEMPOTENCY_LOCK_SECONDS));
		const tenantId = c.get("principal").tenantId;
		const homes = keyHomes(c.env, tenantId, scope, shardPlan(c.env, tenantId), backgroundOf(c));
		const { decision, home } = await beginKey(homes, fingerprint, lockMs, retentionMs);
		switch (decision.kind) {
			case "mismatch":
				throw mismatch(decision.field);
			case "in_progress": {
				const retryAfter = retryAfterSeconds(Math.min(decision.retryAfterMs, 5000));
				throw problem(
					409,
					"idempotency_key_in_use",
					"A request with this Idempotency-Key is still being processed; retry later.",
					{ retry_after: retryAfter },
					{
						"Retry-After": String(retryAfter),
					},
				);
			}
			case "replay":
				rememberReplay(scope, { fingerprint, response: decision.response }, decision.expiresAt);
				return replay(decision.response);
			case "acquired":
				break;
		}

		c.set("idempotencyKey", key);
		await next();
		const res = c.res;
		// A thrown 4xx is a rejection (validation, not found…): nothing happened, so nothing is stored.
		if (res.status >= 500 || (c.error !== undefined && res.status >= 400)) {
			forgetReplay(scope);
			await home.release(decision.token).catch((error: unknown) => logWarn("idempotency release failed", scope, error));
			return;
		}
		const stored = await snapshot(res);
		const ok = await home.complete(decision.token, stored, retentionMs).catch((error: unknown) => {
			// The response still goes out; a retry after the lock expires re-runs, which the
			// operation's own second line of defence (ledger, processor key) must absorb.
			logWarn("idempotency completion failed", scope, error);
			return false;
		});
		if (ok) rememberReplay(scope, { fingerprint, response: stored }, Date.now() + retentionMs);
	};
}

/**
 * Where a key's record lives. A tenant API key may act for any of its devices, so its keys are
 * per tenant (`<tenant>:<key>`, as before). A device token acts only as itself, so its keys are
 * per device: a device can never be replayed another device's stored answer, which would skip the
 * route's own `assertActsAs`. `/` cannot follow a tenant id in a tenant scope, so the two never meet.
 */
export function idempotencyScope(principal: TenantPrincipal, key: string): string {
	return principal.deviceId === undefined
		? `${principal.tenantId}:${key}`
		: `${principal.tenantId}/device/${principal.deviceId}:${key}`;
}

/** The key from `Idempotency-Key` (or the older `X-Idempotency-Key`); null when absent; 400 when malformed. */
function readKey(c: Context<AppEnv>): string | null {
	const primary = c.req.header("Idempotency-Key");
	const alias = c.req.header("X-Idempotency-Key");
	if (primary !== undefined && alias !== undefined && unquote(primary) !== unquote(alias)) {
		throw problem(400, "idempotency_key_invalid", "Idempotency-Key and X-Idempotency-Key disagree; send one of them.");
	}
	const raw = primary ?? alias;
	if (raw === undefined) return null;
	const parsed = idempotencyKeySchema.safeParse(unquote(raw.trim()));
	if (!parsed.success)
		throw problem(400, "idempotency_key_invalid", parsed.error.issues.map((i) => i.message).join("; "));
	return parsed.data;
}

/** The draft sends the key as a structured-field string ("..."); plain tokens are accepted too. */
function unquote(value: string): string {
	const match = /^"((?:[^"\\]|\\.)*)"$/.exec(value);
	return match?.[1] === undefined ? value : match[1].replace(/\\(.)/g, "$1");
}

function assertSameRequest(stored: Fingerprint, incoming: Fingerprint): void {
	if (stored.method !== incoming.method) throw mismatch("method");
	if (stored.path !== incoming.path) throw mismatch("path");
	if (stored.bodyHash !== incoming.bodyHash) throw mismatch("bodyHash");
}

function mismatch(field: keyof Fingerprint): AppError {
	const what = field === "bodyHash" ? "body" : field;
	return problem(
		422,
		"idempotency_key_reused",
		`This Idempotency-Key was already used for a request with a different ${what}.`,
		{ mismatch: what },
	);
}

function problem(
	status: 400 | 409 | 422,
	code: string,
	message: string,
	details?: unknown,
	headers: Record<string, string> = {},
): AppError {
	return new AppError(status, code, message, details, { ...PROBLEM, ...headers });
}

function replay(stored: StoredResponse): Response {
	if (stored.omitted === true)
		throw new AppError(
			410,
			"idempotency_response_not_kept",
			`The request with this Idempotency-Key ran once, but its response was larger than ${MAX_REPLAY_BODY_CHARS} characters and was not kept for replay.`,
			{ status: stored.status },
			PROBLEM,
		);
	const headers = new Headers(stored.headers);
	headers.set("Idempotent-Replayed", "true");
	return new Response(stored.body, { status: stored.status, headers });
}

async function snapshot(res: Response): Promise<StoredResponse> {
	const headers: Record<string, string> = {};
	for (const name of REPLAYED_HEADERS) {
		const value = res.headers.get(name);
		if (value !== null) headers[name] = value;
	}
	const body = await res.clone().text();
	if (body.length > MAX_REPLAY_BODY_CHARS) return { status: res.status, body: "", headers, omitted: true };
	return { status: res.status, body, headers };
}

/**
 * The request's waitUntil, which turns on coalesced home-shard calls; undefined (calls go one by
 * one) unless IDEMPOTENCY_COALESCE is "true", or when the app runs without an execution context.
 */
function backgroundOf(c: Context<AppEnv>): ((promise: Promise<unknown>) => void) | undefined {
	if (c.env.IDEMPOTENCY_COALESCE !== "true") return undefined;
	try {
		const ctx = c.executionCtx;
		return (promise) => ctx.waitUntil(promise);
	} catch {
		return undefined;
	}
}

function logWarn(msg: string, scope: string, error: unknown): void {
	log.warn(msg, { scope, error: errorText(error) });
}
