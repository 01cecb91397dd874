import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../platform/app-env";

/**
 * The platform's own counters, kept in this isolate's memory. Workers isolates share no memory,
 * so each isolate counts (and GET /metrics reports) only the requests it served, under its own
 * `instance` label; a scraper sums over instances. Counts restart when an isolate does.
 */
export type IsolateCounters = {
	instance: string;
	startedAt: number;
	requests: Map<string, { route: string; method: string; status: string; count: number }>;
	samplesIngested: number;
};

let counters: IsolateCounters | null = null;

/** Created on first use: Workers forbid random values in the global scope. */
export function isolateCounters(): IsolateCounters {
	counters ??= {
		instance: crypto.randomUUID().slice(0, 8),
		startedAt: Date.now(),
		requests: new Map(),
		samplesIngested: 0,
	};
	return counters;
}

/** Counts every response by matched route pattern (never the raw path: bounded labels), method and status. */
export function countRequests(): MiddlewareHandler<AppEnv> {
	return async function countRequestsMiddleware(c, next) {
		await next();
		const matched = c.req.routePath;
		const route = !matched || matched === "/*" || matched === "*" ? "unmatched" : matched;
		const status = String(c.res.status);
		const key = `${c.req.method} ${route} ${status}`;
		const requests = isolateCounters().requests;
		const seen = requests.get(key);
		if (seen) seen.count++;
		else requests.set(key, { route, method: c.req.method, status, count: 1 });
	};
}

export function countIngested(samples: number): void {
	isolateCounters().samplesIngested += samples;
}
