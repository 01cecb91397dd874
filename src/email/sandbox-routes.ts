import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import { emailDocs } from "./openapi";
import { listMessages } from "./sandbox-db";

const query = z.object({
	campaign_id: z.string().max(64).optional(),
	cursor: z
		.string()
		.regex(/^\d{1,16}$/, "a cursor from next_cursor")
		.optional(),
	limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const headersSchema = z.record(z.string(), z.string());

/** The sandbox provider's record of the calling tenant's messages (off unless EMAIL_SANDBOX_ENABLED). */
export const emailSandboxRoutes = new Hono<AppEnv>().get(
	"/sandbox/messages",
	emailDocs.sandboxMessages,
	validate("query", query),
	async (c) => {
		if (c.env.EMAIL_SANDBOX_ENABLED !== "true")
			throw new AppError(404, "not_found", "The sandbox email provider is not enabled.");
		const q = c.req.valid("query");
		const rows = await listMessages(
			c.env.DB,
			c.get("principal").tenantId,
			q.campaign_id ?? null,
			Number(q.cursor ?? 0),
			q.limit + 1,
		);
		const page = rows.slice(0, q.limit);
		const last = page.at(-1);
		return c.json({
			messages: page.map((r) => ({
				seq: r.seq,
				idempotency_key: r.idempotency_key,
				campaign_id: r.campaign_id,
				recipient: r.recipient,
				from: r.sender,
				subject: r.subject,
				text: r.text_body,
				html: r.html_body,
				headers: headersSchema.parse(JSON.parse(r.headers)),
				outcome: r.outcome,
				created_at: r.created_at,
			})),
			next_cursor: rows.length > q.limit && last ? String(last.seq) : null,
		});
	},
);
