import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import { ingestBody, LABEL_NAME_PATTERN, METRIC_NAME_PATTERN } from "./domain";
import { ingestSamples } from "./ingest";
import { metricDocs } from "./openapi";
import { runQuery } from "./query";
import { QUERY_AGGS, QUERY_LIMITS } from "./query-domain";

const MATCH_KEY = /^match\[(.+)\]$/;
const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Seconds since the epoch (Prometheus' form) or an RFC 3339 time, to milliseconds. */
const instant = z.string().transform((text, ctx) => {
	const ms = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : Date.parse(text);
	if (!Number.isFinite(ms)) ctx.addIssue({ code: "custom", message: "seconds since the epoch or an RFC 3339 time" });
	return Math.floor(ms);
});
/** Seconds, or a duration such as 30s, 5m, 1h, 1d; whole seconds. */
const step = z
	.string()
	.regex(/^\d+[smhd]?$/, "seconds or a duration such as 30s, 5m, 1h")
	.transform((text) => Number.parseInt(text, 10) * (UNITS[text.slice(-1)] ?? 1_000))
	.refine((ms) => ms >= 1_000, "at least one second");

const queryParams = z
	.object({
		name: z.string().regex(METRIC_NAME_PATTERN),
		from: instant,
		to: instant,
		step,
		agg: z.enum(QUERY_AGGS).default("sum"),
	})
	.catchall(z.string().max(256))
	.superRefine((q, ctx) => {
		const extra = Object.keys(q).filter((k) => !["name", "from", "to", "step", "agg"].includes(k));
		if (extra.length > QUERY_LIMITS.maxMatchers)
			ctx.addIssue({ code: "custom", message: `at most ${QUERY_LIMITS.maxMatchers} matchers` });
		for (const k of extra) {
			const label = MATCH_KEY.exec(k)?.[1];
			if (!label || !LABEL_NAME_PATTERN.test(label))
				ctx.addIssue({ code: "custom", path: [k], message: "expected match[<label name>]=<value>" });
		}
	});

/** POST /api/v1/metrics (ingest) and GET /api/v1/metrics/query. */
export const metricRoutes = new Hono<AppEnv>()
	.post("/", metricDocs.ingest, validate("json", ingestBody), async (c) => {
		const result = await ingestSamples(c.env, c.get("principal").tenantId, c.req.valid("json").samples, Date.now());
		return c.json(result, 202);
	})
	.get("/query", metricDocs.query, validate("query", queryParams), async (c) => {
		const q = c.req.valid("query");
		const matchers: Record<string, string> = {};
		for (const [k, v] of Object.entries(q)) {
			const label = MATCH_KEY.exec(k)?.[1];
			if (label) matchers[label] = String(v);
		}
		if (q.step <= 0) throw new AppError(400, "validation_failed", "step must be positive.");
		const answer = await runQuery(c.env.DB, {
			tenantId: c.get("principal").tenantId,
			name: q.name,
			matchers,
			fromMs: q.from,
			toMs: q.to,
			stepMs: q.step,
			agg: q.agg,
		});
		return c.json({ name: q.name, agg: q.agg, tier: answer.tier, step_seconds: q.step / 1000, points: answer.points });
	});
