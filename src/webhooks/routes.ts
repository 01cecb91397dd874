import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import { checkDestination, policyFromEnv } from "../platform/destination";
import { attemptSamples, failedEventsSince, listAttempts } from "./delivery-db";
import { listEndpoints } from "./db";
import { SUBSCRIPTION_PATTERN, WEBHOOK_LIMITS, decodeCursor, encodeCursor, healthFigures } from "./domain";
import {
	changeEndpoint,
	createEndpoint,
	removeEndpoint,
	requireEndpoint,
	rotateEndpointSecret,
	switchEndpoint,
} from "./endpoints";
import { attemptJson, endpointJson } from "./json";
import { webhookDocs } from "./openapi";
import { replayEvents, storeEvent } from "./service";

const ID = z.string().regex(/^[a-z]{2,4}_[0-9a-f]{24}$/, "an id from this API");
const CURSOR = z
	.string()
	.regex(/^\d{1,16}\.[A-Za-z0-9_]{3,64}$/, "a cursor from next_cursor")
	.optional();
const endpointFields = {
	url: z.string().min(1).max(2048),
	description: z.string().max(500).optional(),
	event_types: z
		.array(z.string().regex(SUBSCRIPTION_PATTERN, "a dot-separated type or prefix.*"))
		.max(WEBHOOK_LIMITS.maxSubscriptions)
		.optional(),
	rate_limit: z.number().int().min(1).max(WEBHOOK_LIMITS.maxRateLimit).nullable().optional(),
	ordering_key: z
		.string()
		.regex(/^[A-Za-z0-9_]{1,64}$/, "a top-level payload field name")
		.nullable()
		.optional(),
};
const createBody = z.object(endpointFields).strict();
const patchBody = z.object({ ...endpointFields, url: endpointFields.url.optional() }).strict();
const idParams = z.object({ id: ID });
const pageQuery = z
	.object({ cursor: CURSOR, limit: z.coerce.number().int().min(1).max(WEBHOOK_LIMITS.pageSize).default(50) })
	.strict();
const rotateBody = z
	.object({ overlap_seconds: z.number().int().min(0).max(WEBHOOK_LIMITS.maxOverlapSeconds).optional() })
	.strict();
const recoverBody = z.object({ since: z.iso.datetime({ offset: true }) }).strict();
const HEALTH_WINDOW_HOURS = 24;
const HEALTH_SAMPLES = 10_000;

/** Webhook endpoints: CRUD, secret rotation, enable, test, attempts, health, recover. */
export const webhookEndpointRoutes = new Hono<AppEnv>()
	.post("/endpoints", webhookDocs.create, validate("json", createBody), async (c) => {
		const body = c.req.valid("json");
		allowedUrl(c.env, body.url);
		const { row, secret } = await createEndpoint(c.env, c.get("principal").tenantId, body);
		return c.json({ ...endpointJson(row), secret }, 201);
	})
	.get("/endpoints", webhookDocs.list, validate("query", pageQuery), async (c) => {
		const { cursor, limit } = c.req.valid("query");
		const rows = await listEndpoints(c.env.DB, c.get("principal").tenantId, decodeCursor(cursor), limit + 1);
		const page = rows.slice(0, limit);
		const last = page.at(-1);
		return c.json({
			endpoints: page.map((r) => endpointJson(r)),
			next_cursor: rows.length > limit && last ? encodeCursor(last.created_at, last.id) : null,
		});
	})
	.get("/endpoints/:id", webhookDocs.get, validate("param", idParams), async (c) =>
		c.json(endpointJson(await requireEndpoint(c.env, c.get("principal").tenantId, c.req.valid("param").id))),
	)
	.patch("/endpoints/:id", webhookDocs.update, validate("param", idParams), validate("json", patchBody), async (c) => {
		const body = c.req.valid("json");
		if (body.url !== undefined) allowedUrl(c.env, body.url);
		return c.json(
			endpointJson(await changeEndpoint(c.env, c.get("principal").tenantId, c.req.valid("param").id, body)),
		);
	})
	.delete("/endpoints/:id", webhookDocs.remove, validate("param", idParams), async (c) => {
		await removeEndpoint(c.env, c.get("principal").tenantId, c.req.valid("param").id);
		return c.body(null, 204);
	})
	.post(
		"/endpoints/:id/rotate-secret",
		webhookDocs.rotate,
		validate("param", idParams),
		validate("json", rotateBody),
		async (c) => {
			const overlap = c.req.valid("json").overlap_seconds ?? WEBHOOK_LIMITS.defaultOverlapSeconds;
			const rotated = await rotateEndpointSecret(c.env, c.get("principal").tenantId, c.req.valid("param").id, overlap);
			return c.json(
				{ secret: rotated.secret, previous_secret_expires_at: new Date(rotated.previousExpiresAt).toISOString() },
				201,
			);
		},
	)
	.post("/endpoints/:id/enable", webhookDocs.enable, validate("param", idParams), async (c) => {
		const tenantId = c.get("principal").tenantId;
		const { id } = c.req.valid("param");
		await requireEndpoint(c.env, tenantId, id);
		await switchEndpoint(c.env, tenantId, id, true, null);
		return c.json(endpointJson(await requireEndpoint(c.env, tenantId, id)));
	})
	.post("/endpoints/:id/test", webhookDocs.test, validate("param", idParams), async (c) => {
		const tenantId = c.get("principal").tenantId;
		const endpoint = await requireEndpoint(c.env, tenantId, c.req.valid("param").id);
		if (endpoint.enabled !== 1) throw new AppError(409, "endpoint_disabled", "Enable the endpoint before testing it.");
		const payload = { endpoint_id: endpoint.id, sent_at: new Date().toISOString() };
		const stored = await storeEvent(c.env, tenantId, "webhook.test", payload, null, [endpoint.id]);
		return c.json({ event_id: stored.eventId, duplicate: false }, 202);
	})
	.get(
		"/endpoints/:id/attempts",
		webhookDocs.attempts,
		validate("param", idParams),
		validate("query", pageQuery),
		async (c) => {
			const tenantId = c.get("principal").tenantId;
			const { id } = c.req.valid("param");
			await requireEndpoint(c.env, tenantId, id);
			const { cursor, limit } = c.req.valid("query");
			const rows = await listAttempts(c.env.DB, tenantId, id, decodeCursor(cursor), limit + 1);
			const page = rows.slice(0, limit);
			const last = page.at(-1);
			return c.json({
				attempts: page.map(attemptJson),
				next_cursor: rows.length > limit && last ? encodeCursor(last.created_at, last.id) : null,
			});
		},
	)
	.get("/endpoints/:id/health", webhookDocs.health, validate("param", idParams), async (c) => {
		const tenantId = c.get("principal").tenantId;
		const { id } = c.req.valid("param");
		await requireEndpoint(c.env, tenantId, id);
		const since = Date.now() - HEALTH_WINDOW_HOURS * 3_600_000;
		const samples = await attemptSamples(c.env.DB, tenantId, id, since, HEALTH_SAMPLES);
		const figures = healthFigures(
			samples.map((s) => ({
				ok: s.status_code !== null && s.status_code >= 200 && s.status_code < 300,
				latencyMs: s.latency_ms,
			})),
		);
		return c.json({ endpoint_id: id, window_hours: HEALTH_WINDOW_HOURS, ...figures });
	})
	.post(
		"/endpoints/:id/recover",
		webhookDocs.recover,
		validate("param", idParams),
		validate("json", recoverBody),
		async (c) => {
			const tenantId = c.get("principal").tenantId;
			const { id } = c.req.valid("param");
			const endpoint = await requireEndpoint(c.env, tenantId, id);
			if (endpoint.enabled !== 1)
				throw new AppError(409, "endpoint_disabled", "Enable the endpoint before recovering to it.");
			const since = Date.parse(c.req.valid("json").since);
			const eventIds = await failedEventsSince(c.env.DB, tenantId, id, since, WEBHOOK_LIMITS.maxRecover);
			await replayEvents(c.env, tenantId, eventIds, [id]);
			return c.json({ replayed: eventIds.length, event_ids: eventIds }, 202);
		},
	);

function allowedUrl(env: Env, url: string): void {
	const check = checkDestination(url, policyFromEnv(env));
	if (!check.ok)
		throw new AppError(400, "destination_not_allowed", `The endpoint URL is not allowed: ${check.reason}.`);
}
