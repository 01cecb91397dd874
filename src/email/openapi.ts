import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { apiRoute } from "../platform/openapi";

/** The email provider's routes: the sandbox's record and the provider webhook. */

const sandboxMessageSchema = z
	.object({
		seq: z.number().int(),
		idempotency_key: z.string().describe("The provider idempotency key: a campaign's `<campaign_id>-<subscriber_id>`."),
		campaign_id: z.string().nullable(),
		recipient: z.string(),
		from: z.string(),
		subject: z.string(),
		text: z.string(),
		html: z.string().nullable(),
		headers: z.record(z.string(), z.string()),
		outcome: z.enum(["sent", "bounced", "complained"]),
		created_at: z.number().int(),
	})
	.meta({ id: "SandboxEmail" });

export const emailDocs = {
	sandboxMessages: describeRoute(
		apiRoute({
			tags: ["Email"],
			access: "tenant",
			summary: "Messages the sandbox provider accepted for this tenant, each once (404 when the sandbox is off)",
			ok: { 200: z.object({ messages: z.array(sandboxMessageSchema), next_cursor: z.string().nullable() }) },
			errors: [404],
		}),
	),
	providerWebhook: describeRoute(
		apiRoute({
			tags: ["Email"],
			access: "none",
			summary:
				"Bounce and complaint events from the provider (Standard Webhooks / Svix signature, EMAIL_WEBHOOK_SECRET)",
			ok: { 200: z.object({ applied: z.boolean() }) },
			errors: [401],
		}),
	),
	unsubscribe: describeRoute(
		apiRoute({
			tags: ["Email"],
			access: "none",
			summary: "One-click unsubscribe (RFC 8058 POST; GET shows a confirmation form), signed link, no login",
			ok: {
				200: {
					description: "Unsubscribed (or the confirmation page).",
					content: { "text/html": { schema: { type: "string" } } },
				},
			},
			errors: [404],
		}),
	),
};
