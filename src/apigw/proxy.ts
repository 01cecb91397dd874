import { AppError } from "../platform/errors";
import { errorText, log } from "../platform/log";
import { policyFromEnv } from "../platform/destination";
import { DestinationRefusedError, safeFetch } from "../platform/safe-fetch";
import type { SafeResponse } from "../platform/safe-fetch";
import { sleep, TimeoutError } from "../platform/timeout";
import type { Peer } from "./balancer";
import { choosePeer, newPeers, reportOutcome } from "./balancer";
import type { GatewayRoute } from "./domain";
import { APIGW_LIMITS, isRetryable, isUpstreamFailure, retryDelayMs, upstreamUrl } from "./domain";
import { downKey } from "./service";

/**
 * Sends one request to a route's upstreams: smooth weighted round robin over the upstreams that
 * are not ejected, retrying a failed attempt (a network error, a timeout, 502/503/504) on the next
 * upstream after a short backoff when the request may be repeated. Balancer and breaker state live
 * in this isolate's memory (see docs/apigw.md: why not a Durable Object).
 */

export type ProxyRequest = {
	tenantId: string;
	route: GatewayRoute;
	method: string;
	path: string;
	search: string;
	headers: Headers;
	body: Uint8Array<ArrayBuffer> | null;
	/** X-Forwarded-* and X-Request-Id, written by the platform. */
	trusted: Record<string, string>;
	down: ReadonlySet<string>;
};

export type ProxyResult = { upstream: SafeResponse; attempts: number };

const MAX_TRACKED_ROUTES = 10_000;
// Isolate-wide balancer state (plain data): one peer list per route version.
const balancers = new Map<string, Peer[]>();

export async function forward(env: Env, req: ProxyRequest): Promise<ProxyResult> {
	const { route } = req;
	const peers = peersOf(req.tenantId, route);
	const retryable = isRetryable(req.method, req.headers.has("Idempotency-Key"));
	const maxAttempts = retryable ? 1 + route.retries : 1;
	const policy = policyFromEnv(env);
	const tried = new Set<string>();
	const down = new Set(route.upstreams.map((u) => u.url).filter((u) => req.down.has(downKey(route.name, u))));
	let lastFailure: { status: 502 | 504; code: string; message: string } | null = null;
	let lastResponse: SafeResponse | null = null;
	for (let attempt = 1; attempt <= maxAttempts; attempt++) {
		const now = Date.now();
		// Every upstream tried once already: a further retry may go back to one of them.
		if (tried.size === peers.length) tried.clear();
		const choice = choosePeer(peers, route.passive_health, now, { tried, down });
		if (!choice) break;
		if (attempt > 1) await sleep(retryDelayMs(attempt - 1, Math.random()));
		tried.add(choice.peer.url);
		const url = upstreamUrl(choice.peer.url, route, req.path, req.search);
		try {
			const res = await safeFetch(url, {
				method: req.method,
				headers: req.headers,
				body: req.body,
				policy,
				timeoutMs: route.timeout_ms,
				maxResponseBytes: APIGW_LIMITS.maxResponseBytes,
				redirect: "return",
				trustedHeaders: req.trusted,
			});
			const failed = isUpstreamFailure(res.status);
			reportOutcome(choice.peer, route.passive_health, Date.now(), !failed, choice.trial);
			if (res.truncated) {
				throw new AppError(
					502,
					"upstream_response_too_large",
					`The upstream answered more than ${APIGW_LIMITS.maxResponseBytes} bytes.`,
				);
			}
			if (!failed) return { upstream: res, attempts: attempt };
			lastResponse = res;
		} catch (err) {
			if (err instanceof AppError) throw err;
			if (err instanceof DestinationRefusedError) {
				// A policy decision, not an upstream fault: never retried, never counted against its health.
				reportOutcome(choice.peer, route.passive_health, Date.now(), true, choice.trial);
				throw new AppError(
					502,
					"destination_not_allowed",
					`The upstream is not an allowed destination: ${err.reason}.`,
				);
			}
			reportOutcome(choice.peer, route.passive_health, Date.now(), false, choice.trial);
			const timedOut = err instanceof TimeoutError;
			lastFailure = timedOut
				? {
						status: 504,
						code: "upstream_timeout",
						message: `The upstream did not answer within ${route.timeout_ms} ms.`,
					}
				: { status: 502, code: "upstream_unavailable", message: "The upstream could not be reached." };
			lastResponse = null;
			log.warn("gateway upstream attempt failed", { route: route.name, attempt, error: errorText(err) });
		}
	}
	if (lastResponse) return { upstream: lastResponse, attempts: tried.size };
	if (lastFailure) throw new AppError(lastFailure.status, lastFailure.code, lastFailure.message);
	throw new AppError(503, "no_healthy_upstream", "Every upstream of this route is ejected; retry shortly.", undefined, {
		"Retry-After": String(route.passive_health.cooldown_seconds),
	});
}

/** The balancer state of a route version (a changed route starts afresh). */
function peersOf(tenantId: string, route: GatewayRoute): Peer[] {
	const key = `${tenantId}:${route.name}:${route.version}`;
	let peers = balancers.get(key);
	if (!peers) {
		if (balancers.size >= MAX_TRACKED_ROUTES) {
			const oldest = balancers.keys().next();
			if (!oldest.done) balancers.delete(oldest.value);
		}
		peers = newPeers(route.upstreams);
		balancers.set(key, peers);
	}
	return peers;
}
