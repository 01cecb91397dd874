import { Hono } from "hono";
import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { errorText, log } from "../platform/log";
import { validate } from "../platform/validation";
import { tenantAuth } from "../gateway/tenants/middleware";
import type { CacheStatus } from "./cache-policy";
import { requestBypassReason, storableTtl } from "./cache-policy";
import type { GatewayRoute } from "./domain";
import { APIGW_LIMITS, matchRoute, PROXY_METHODS } from "./domain";
import { apigwDocs } from "./openapi";
import { forward } from "./proxy";
import { limitRoute } from "./route-limits";
import { flushRouteMetrics, recordRequest } from "./route-metrics";
import { lookup, store } from "./response-cache";
import { tenantRoutes } from "./service";

/** Response headers that describe one connection, never passed on (RFC 9110 7.6.1). */
const HOP_BY_HOP = [
	"connection",
	"keep-alive",
	"proxy-authenticate",
	"proxy-connection",
	"te",
	"trailer",
	"transfer-encoding",
	"upgrade",
	"content-length",
];
const CACHE_HEADER = "Floodgate-Cache";
const params = z.object({ tenantId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "a tenant id") });

/** Traffic to a tenant's upstreams: /gw/{tenant_id}/{path}. No platform auth in front: each route says. */
export const gatewayTrafficRoutes = new Hono<AppEnv>().on(
	[...PROXY_METHODS],
	"/:tenantId/*",
	apigwDocs.traffic,
	validate("param", params),
	async (c) => {
		const started = Date.now();
		const { tenantId } = c.req.valid("param");
		const path = c.req.path.slice(`/gw/${tenantId}`.length) || "/";
		const { routes, down } = await tenantRoutes(c.env, tenantId);
		const route = matchRoute(routes, path);
		if (!route) throw new AppError(404, "not_found", `No gateway route for ${path}.`);
		let status = 500;
		try {
			const res = await serve(c, tenantId, route, path, down);
			status = res.status;
			return res;
		} catch (err) {
			if (err instanceof AppError) status = err.status;
			throw err;
		} finally {
			// Every answer counts, the gateway's own errors (429, 502, 504…) too.
			if (recordRequest(tenantId, route.name, status, Date.now() - started, Date.now()))
				c.executionCtx.waitUntil(
					flushRouteMetrics(c.env, Date.now()).catch((err: unknown) =>
						log.error("gateway metrics flush failed", { error: errorText(err) }),
					),
				);
		}
	},
);

async function serve(
	c: Context<AppEnv>,
	tenantId: string,
	route: GatewayRoute,
	path: string,
	down: ReadonlySet<string>,
): Promise<Response> {
	const method = c.req.method;
	if (route.methods && !route.methods.some((m) => m === method)) {
		const allow = route.methods.join(", ");
		throw new AppError(
			405,
			"method_not_allowed",
			`${method} is not allowed on this route.`,
			{ allow: route.methods },
			{ Allow: allow },
		);
	}
	const headers = new Headers(c.req.raw.headers);
	if (route.auth === "api_key") {
		await tenantAuth()(c, async () => undefined);
		// Another tenant's key: the route is as invisible to it as a missing one.
		if (c.get("principal").tenantId !== tenantId) throw new AppError(404, "not_found", `No gateway route for ${path}.`);
		// The platform credential is never passed on to the tenant's upstream.
		headers.delete("Authorization");
	}
	await limitRoute(c, tenantId, route);

	const search = new URL(c.req.url).search;
	const bypass = route.cache_ttl === undefined ? "not cached" : requestBypassReason(method, headers);
	if (bypass === null) {
		const hit = await lookup(tenantId, route, path, search, headers);
		if (hit) return withHeader(hit, CACHE_HEADER, "HIT");
	}
	for (const [name, value] of Object.entries(route.headers ?? {})) headers.set(name, value);
	const requestId = c.get("requestId");
	const body = await readBody(c.req.raw);
	const { upstream } = await forward(c.env, {
		tenantId,
		route,
		method,
		path,
		search,
		headers,
		body,
		trusted: forwardedHeaders(c.req.raw, requestId),
		down,
	});
	const out = new Headers(upstream.headers);
	for (const name of HOP_BY_HOP) out.delete(name);
	const status: CacheStatus = bypass === null ? "MISS" : "BYPASS";
	out.set(CACHE_HEADER, status);
	const empty = method === "HEAD" || upstream.status === 204 || upstream.status === 304;
	if (bypass === null && route.cache_ttl !== undefined) {
		const ttl = storableTtl(upstream.status, upstream.headers, route.cache_ttl);
		if (ttl !== null) {
			const answer = { status: upstream.status, headers: out, body: new Uint8Array(upstream.body) };
			await store(tenantId, route, path, search, headers, answer, ttl).catch((err: unknown) =>
				log.warn("gateway cache store failed", { route: route.name, error: errorText(err) }),
			);
		}
	}
	return new Response(empty ? null : new Uint8Array(upstream.body), { status: upstream.status, headers: out });
}

/** The request body, buffered (a retry resends it) and capped. */
async function readBody(req: Request): Promise<Uint8Array<ArrayBuffer> | null> {
	if (req.method === "GET" || req.method === "HEAD" || !req.body) return null;
	const declared = Number(req.headers.get("Content-Length") ?? "0");
	if (declared > APIGW_LIMITS.maxRequestBytes) throw tooLarge();
	const bytes = new Uint8Array(await req.arrayBuffer());
	if (bytes.byteLength > APIGW_LIMITS.maxRequestBytes) throw tooLarge();
	return bytes;
}

function tooLarge(): AppError {
	return new AppError(
		413,
		"payload_too_large",
		`Gateway request bodies are at most ${APIGW_LIMITS.maxRequestBytes} bytes.`,
	);
}

function forwardedHeaders(req: Request, requestId: string): Record<string, string> {
	const url = new URL(req.url);
	const client = req.headers.get("CF-Connecting-IP");
	const prior = req.headers.get("X-Forwarded-For");
	const chain = [prior, client].filter((v): v is string => v !== null && v !== "").join(", ");
	return {
		"X-Request-Id": requestId,
		"X-Forwarded-Proto": url.protocol.replace(":", ""),
		"X-Forwarded-Host": url.host,
		...(chain === "" ? {} : { "X-Forwarded-For": chain }),
	};
}

function withHeader(res: Response, name: string, value: string): Response {
	const headers = new Headers(res.headers);
	headers.set(name, value);
	return new Response(res.body, { status: res.status, headers });
}
