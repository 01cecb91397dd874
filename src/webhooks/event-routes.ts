import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import { deliveriesOfEvent, findEvent, readPayload } from "./delivery-db";
import { EVENT_TYPE_PATTERN } from "./domain";
import { requireEndpoint, subscribersOf } from "./endpoints";
import { deliveryJson } from "./json";
import { webhookDocs } from "./openapi";
import { replayEvents, storeEvent } from "./service";
import { subscribes } from "./domain";

const publishBody = z
	.object({
		type: z.string().max(128).regex(EVENT_TYPE_PATTERN, "dot-separated lowercase names, e.g. order.paid"),
		payload: z.json(),
		idempotency_key: z.string().min(1).max(200).optional(),
	})
	.strict();
const idParams = z.object({ id: z.string().regex(/^evt_[0-9a-f]{24}$/, "an event id") });
const replayBody = z
	.object({
		endpoint_id: z
			.string()
			.regex(/^ep_[0-9a-f]{24}$/)
			.optional(),
	})
	.strict();

/** A tenant's own events: publish, inspect with per-endpoint status, replay. */
export const webhookEventRoutes = new Hono<AppEnv>()
	.post("/events", webhookDocs.publish, validate("json", publishBody), async (c) => {
		const { type, payload, idempotency_key } = c.req.valid("json");
		const stored = await storeEvent(c.env, c.get("principal").tenantId, type, payload, idempotency_key ?? null);
		return c.json({ event_id: stored.eventId, duplicate: stored.duplicate }, 202);
	})
	.get("/events/:id", webhookDocs.event, validate("param", idParams), async (c) => {
		const tenantId = c.get("principal").tenantId;
		const event = await findEvent(c.env.DB, tenantId, c.req.valid("param").id);
		if (!event) throw notFound(c.req.valid("param").id);
		const deliveries = await deliveriesOfEvent(c.env.DB, tenantId, event.id);
		const payload: unknown = JSON.parse(await readPayload(c.env.DB, event.id));
		return c.json({
			event_id: event.id,
			type: event.type,
			payload,
			created_at: new Date(event.created_at).toISOString(),
			deliveries: deliveries.map(deliveryJson),
		});
	})
	.post(
		"/events/:id/replay",
		webhookDocs.replay,
		validate("param", idParams),
		validate("json", replayBody),
		async (c) => {
			const tenantId = c.get("principal").tenantId;
			const event = await findEvent(c.env.DB, tenantId, c.req.valid("param").id);
			if (!event) throw notFound(c.req.valid("param").id);
			const { endpoint_id } = c.req.valid("json");
			if (endpoint_id !== undefined) await requireEndpoint(c.env, tenantId, endpoint_id);
			const count = endpoint_id
				? 1
				: (await subscribersOf(c.env, tenantId)).filter((s) => subscribes(s.subscriptions, event.type)).length;
			await replayEvents(c.env, tenantId, [event.id], endpoint_id ? [endpoint_id] : undefined);
			return c.json({ event_id: event.id, endpoints: count }, 202);
		},
	);

function notFound(id: string): AppError {
	return new AppError(404, "event_not_found", `No webhook event '${id}'.`);
}
