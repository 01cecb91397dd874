import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./app-env";

/**
 * `Server-Timing: total;dur=<ms>`: the Worker's time from this middleware (mounted before
 * authentication and the limiter) to the finished response, so a client or benchmark can tell
 * service time from time queued on the way (the ingest bench at 500 clients: the Worker's p99 is
 * tens of ms while the client's is seconds, all of it spent before the request reaches the Worker).
 * Mounted on suggest, location updates and whoami. Deployed, Workers' clocks advance only on I/O, so
 * CPU-only work reads as 0 there; locally (workerd) the clock is real.
 */
export function serverTiming(): MiddlewareHandler<AppEnv> {
	return async function serverTimingMiddleware(c, next) {
		const started = performance.now();
		await next();
		const value = `total;dur=${(performance.now() - started).toFixed(1)}`;
		try {
			c.res.headers.set("Server-Timing", value);
		} catch {
			// An immutable response (none expected here): copy it once instead.
			c.header("Server-Timing", value);
		}
	};
}
