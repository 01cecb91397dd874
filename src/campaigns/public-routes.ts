import { Hono } from "hono";
import { html } from "hono/html";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { log } from "../platform/log";
import { validate } from "../platform/validation";
import { verifyWebhook } from "../platform/webhook-signature";
import { emailDocs } from "../email/openapi";
import { normalizeEmail } from "./domain";
import { applyFeedback, unsubscribe } from "./service";
import { verifyUnsubscribeToken } from "./unsubscribe";

/**
 * Routes without a login: the signed one-click unsubscribe (RFC 8058) and the provider's signed
 * bounce/complaint webhook (Resend sends Svix = Standard Webhooks signatures).
 */

const tokenParams = z.object({ token: z.string().min(10).max(300) });
const tagsSchema = z.union([
	z.record(z.string(), z.string()),
	z
		.array(z.object({ name: z.string(), value: z.string() }))
		.transform((tags) => Object.fromEntries(tags.map((t) => [t.name, t.value]))),
]);
const eventSchema = z.object({
	type: z.string(),
	data: z.object({ to: z.union([z.string(), z.array(z.string())]), tags: tagsSchema.optional() }).loose(),
});
const FEEDBACK: Record<string, "bounced" | "complained"> = {
	"email.bounced": "bounced",
	"email.complained": "complained",
};

export const unsubscribeRoutes = new Hono<AppEnv>()
	.get("/:token", emailDocs.unsubscribe, validate("param", tokenParams), async (c) => {
		await requireTarget(c.env, c.req.valid("param").token);
		// A GET never unsubscribes (mail scanners follow links): it shows a one-button form.
		return c.html(
			html`<!doctype html><title>Unsubscribe</title>
				<form method="post">
					<input type="hidden" name="List-Unsubscribe" value="One-Click" /><button>Unsubscribe</button>
				</form>`,
		);
	})
	.post("/:token", emailDocs.unsubscribe, validate("param", tokenParams), async (c) => {
		const target = await requireTarget(c.env, c.req.valid("param").token);
		if (!(await unsubscribe(c.env, target))) throw new AppError(404, "not_found", "No such recipient.");
		return c.html(
			html`<!doctype html><title>Unsubscribed</title>
				<p>You are unsubscribed.</p>`,
		);
	});

export const providerWebhookRoutes = new Hono<AppEnv>().post("/", emailDocs.providerWebhook, async (c) => {
	const body = await c.req.text();
	const ok = await verifyWebhook(c.env.EMAIL_WEBHOOK_SECRET, c.req.raw.headers, body, Math.floor(Date.now() / 1000));
	if (!ok) throw new AppError(401, "invalid_signature", "The webhook signature does not verify.");
	const parsed = eventSchema.safeParse(safeJson(body));
	if (!parsed.success)
		throw new AppError(400, "validation_failed", "Not a provider event.", {
			fields: [{ path: "(root)", message: "not an event" }],
		});
	const kind = FEEDBACK[parsed.data.type];
	const tags = parsed.data.data.tags ?? {};
	const to = Array.isArray(parsed.data.data.to) ? parsed.data.data.to[0] : parsed.data.data.to;
	const email = to === undefined ? null : normalizeEmail(to);
	if (kind === undefined || email === null || tags.tenant === undefined) return c.json({ applied: false });
	const subscriber =
		tags.subscriber !== undefined && /^\d{1,16}$/.test(tags.subscriber) ? Number(tags.subscriber) : null;
	await applyFeedback(c.env, {
		kind,
		tenantId: tags.tenant,
		email,
		campaignId: tags.campaign ?? null,
		subscriberId: subscriber,
	});
	log.info("provider feedback applied", { kind, tenant_id: tags.tenant, campaign_id: tags.campaign });
	return c.json({ applied: true });
});

async function requireTarget(env: Env, token: string) {
	const target = await verifyUnsubscribeToken(env.EMAIL_UNSUBSCRIBE_SECRET, token);
	if (!target) throw new AppError(404, "not_found", "This unsubscribe link is not valid.");
	return target;
}

function safeJson(text: string): unknown {
	try {
		return JSON.parse(text);
	} catch {
		return null;
	}
}
