import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { apiRoute } from "../platform/openapi";
import type { RouteDoc } from "../platform/openapi";

/** Webhooks' answers as schemas and its routes' OpenAPI descriptions. */

const isoTime = z.string().describe("ISO 8601 time.");
const endpointSchema = z
	.object({
		id: z.string(),
		url: z.string(),
		description: z.string(),
		event_types: z.array(z.string()).describe("Exact types or prefix wildcards (`job.*`); empty = every event."),
		rate_limit: z.number().int().nullable().describe("Deliveries per second; null = unpaced."),
		ordering_key: z.string().nullable().describe("Payload field whose value orders deliveries; null = unordered."),
		enabled: z.boolean(),
		disabled_reason: z.string().nullable(),
		failing_since: isoTime.nullable(),
		previous_secret_expires_at: isoTime.nullable().describe("Until then the previous secret signs too."),
		created_at: isoTime,
		updated_at: isoTime,
	})
	.meta({ id: "WebhookEndpoint" });
const deliverySchema = z
	.object({
		delivery_id: z.string(),
		endpoint_id: z.string(),
		status: z.enum(["pending", "delivering", "succeeded", "failed", "dead"]),
		attempts: z.number().int(),
		next_attempt_at: isoTime.nullable(),
		last_status_code: z.number().int().nullable(),
		dead_reason: z.string().nullable(),
		replay: z.boolean(),
		created_at: isoTime,
		updated_at: isoTime,
	})
	.meta({ id: "WebhookDelivery" });
const attemptSchema = z
	.object({
		id: z.string(),
		delivery_id: z.string(),
		event_id: z.string(),
		attempt: z.number().int(),
		status_code: z.number().int().nullable(),
		latency_ms: z.number().int(),
		response_excerpt: z.string().nullable().describe("The first 1 KB of the answer."),
		error: z.string().nullable(),
		created_at: isoTime,
	})
	.meta({ id: "WebhookAttempt" });
const healthSchema = z.object({
	endpoint_id: z.string(),
	window_hours: z.number().int(),
	attempts: z.number().int(),
	succeeded: z.number().int(),
	success_rate: z.number().nullable(),
	p50_ms: z.number().nullable(),
	p99_ms: z.number().nullable(),
});
const accepted = z.object({ event_id: z.string(), duplicate: z.boolean() });

const hooks = (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: ["Webhooks"], access: "tenant", ...doc }));

export const webhookDocs = {
	create: hooks({
		summary: "Create an endpoint; the answer carries its whsec_ secret, shown only once",
		ok: { 201: endpointSchema.extend({ secret: z.string() }) },
		errors: [409],
	}),
	list: hooks({
		summary: "List endpoints (cursor-paginated)",
		ok: { 200: z.object({ endpoints: z.array(endpointSchema), next_cursor: z.string().nullable() }) },
	}),
	get: hooks({ summary: "One endpoint", ok: { 200: endpointSchema }, errors: [404] }),
	update: hooks({
		summary: "Change an endpoint's URL, subscriptions, rate limit or ordering",
		ok: { 200: endpointSchema },
		errors: [404],
	}),
	remove: hooks({ summary: "Delete an endpoint", ok: { 204: { description: "Deleted." } }, errors: [404] }),
	rotate: hooks({
		summary: "Rotate the secret; the old one keeps signing for overlap_seconds (24 h default)",
		ok: { 201: z.object({ secret: z.string(), previous_secret_expires_at: isoTime }) },
		errors: [404],
	}),
	enable: hooks({ summary: "Re-enable a disabled endpoint", ok: { 200: endpointSchema }, errors: [404] }),
	test: hooks({ summary: "Send a webhook.test event to this endpoint", ok: { 202: accepted }, errors: [404, 409] }),
	attempts: hooks({
		summary: "The endpoint's delivery attempts, newest first (cursor-paginated)",
		ok: { 200: z.object({ attempts: z.array(attemptSchema), next_cursor: z.string().nullable() }) },
		errors: [404],
	}),
	health: hooks({
		summary: "Success rate and latency percentiles of the last 24 h of attempts",
		ok: { 200: healthSchema },
		errors: [404],
	}),
	recover: hooks({
		summary: "Re-send every event whose delivery to this endpoint failed since a time",
		ok: { 202: z.object({ replayed: z.number().int(), event_ids: z.array(z.string()) }) },
		errors: [404, 409],
	}),
	publish: hooks({ summary: "Publish an event to the subscribed endpoints", ok: { 202: accepted } }),
	event: hooks({
		summary: "An event, its payload and its delivery status per endpoint",
		ok: {
			200: z.object({
				event_id: z.string(),
				type: z.string(),
				payload: z.unknown(),
				created_at: isoTime,
				deliveries: z.array(deliverySchema),
			}),
		},
		errors: [404],
	}),
	replay: hooks({
		summary: "Re-send an event to one endpoint or to all its current subscribers",
		ok: { 202: z.object({ event_id: z.string(), endpoints: z.number().int() }) },
		errors: [404],
	}),
};
