import { policyFromEnv } from "../platform/destination";
import { errorText } from "../platform/log";
import { safeFetch } from "../platform/safe-fetch";
import type { HealthRow } from "./db";
import { routesToCheck, saveHealth } from "./db";
import { upstreamUrl } from "./domain";
import { toRoute } from "./service";

/**
 * Active health checks (cron "* * * * *"): a GET to `health_path` on each upstream of the routes
 * that have one, least recently checked first, at most MAX_CHECKS per run and CONCURRENCY at a
 * time (Workers allow 6 simultaneous connections per invocation). A 2xx or 3xx is healthy. The
 * verdicts are stored in D1; the proxy avoids an upstream marked down while another is up.
 */

export const MAX_CHECKS = 100;
const MAX_ROUTES = 50;
const CONCURRENCY = 6;
const CHECK_TIMEOUT_MS = 5_000;

export async function checkUpstreams(
	env: Env,
	now: number,
): Promise<{ routes: number; checked: number; down: number }> {
	const rows = await routesToCheck(env.DB, MAX_ROUTES);
	const checks = rows
		.flatMap((row) => {
			const route = toRoute(row);
			const path = route.health_path;
			if (path === undefined) return [];
			return route.upstreams.map((u) => ({
				tenantId: row.tenant_id,
				routeName: row.name,
				upstream: u.url,
				url: upstreamUrl(u.url, { path_prefix: "/", strip_prefix: false }, path, ""),
			}));
		})
		.slice(0, MAX_CHECKS);
	const policy = policyFromEnv(env);
	const results: HealthRow[] = [];
	let next = 0;
	const worker = async () => {
		while (next < checks.length) {
			const check = checks[next++];
			if (!check) break;
			const started = Date.now();
			const row = {
				tenant_id: check.tenantId,
				route_name: check.routeName,
				upstream_url: check.upstream,
				checked_at: now,
			};
			try {
				const res = await safeFetch(check.url, {
					policy,
					timeoutMs: CHECK_TIMEOUT_MS,
					maxResponseBytes: 1024,
					maxRedirects: 0,
					redirect: "return",
				});
				const healthy = res.status >= 200 && res.status < 400;
				results.push({
					...row,
					healthy: healthy ? 1 : 0,
					status: res.status,
					latency_ms: Date.now() - started,
					error: null,
				});
			} catch (err) {
				results.push({
					...row,
					healthy: 0,
					status: null,
					latency_ms: Date.now() - started,
					error: errorText(err).slice(0, 200),
				});
			}
		}
	};
	await Promise.all(Array.from({ length: Math.min(CONCURRENCY, checks.length) }, worker));
	await saveHealth(env.DB, results);
	return { routes: rows.length, checked: results.length, down: results.filter((r) => r.healthy === 0).length };
}
