import { shardBatchFigures } from "../gateway/idempotency/shard-batch";
import { groupCommitFigures } from "../platform/send-coalescer";
import { Hono } from "hono";
import type { AppEnv } from "../platform/app-env";
import { bearerToken } from "../platform/bearer";
import { AppError } from "../platform/errors";
import { sameSecret } from "../gateway/tenants/admin-auth";
import { readStats } from "../telemetry/stats-db";
import { jobCountsByStatus, metricSeriesTotal } from "./exposition-db";
import { EXPOSITION_CONTENT_TYPE, renderExposition } from "./exposition";
import { namedCacheFigures } from "../platform/ttl-cache";
import { isolateCounters } from "./middleware";
import { noticeFailures } from "../accounts/notices";
import { metricDocs } from "./openapi";

/** GET /metrics: the admin token, or METRICS_SCRAPE_TOKEN when that secret is set. */
export const expositionRoutes = new Hono<AppEnv>().get("/", metricDocs.exposition, async (c) => {
	const token = bearerToken(c.req.header("Authorization"));
	const scrapeToken: unknown = Reflect.get(c.env, "METRICS_SCRAPE_TOKEN");
	const allowed =
		(Boolean(c.env.ADMIN_TOKEN) && (await sameSecret(token, c.env.ADMIN_TOKEN))) ||
		(typeof scrapeToken === "string" && scrapeToken.length > 0 && (await sameSecret(token, scrapeToken)));
	if (!allowed)
		throw new AppError(
			401,
			"unauthorized",
			"GET /metrics takes the admin token or METRICS_SCRAPE_TOKEN as a Bearer token.",
		);
	const [telemetry, jobs, metricSeries] = await Promise.all([
		readStats(c.env.DB, null),
		jobCountsByStatus(c.env.DB),
		metricSeriesTotal(c.env.DB),
	]);
	const text = renderExposition({
		isolate: isolateCounters(),
		telemetry,
		jobs,
		metricSeries,
		caches: namedCacheFigures(),
		groupCommit: groupCommitFigures(),
		idempotencyShardBatch: shardBatchFigures(),
		accountNoticeFailures: noticeFailures(),
	});
	return c.body(text, 200, { "Content-Type": EXPOSITION_CONTENT_TYPE });
});
