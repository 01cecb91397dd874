import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { newId } from "../platform/crypto";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import { deleteDraft, getCampaign, insertCampaign, listCampaigns, updateDraft } from "./campaigns-db";
import { getList } from "./db";
import { CAMPAIGN_LIMITS } from "./domain";
import { listDeadLetters } from "./ledger-db";
import { campaignDocs } from "./openapi";
import { changeCampaign, requireCampaign, retryCampaignDeadLetters } from "./service";
import { templateError } from "./template";
import { campaignJson, deadLetterJson } from "./views";

const idParams = z.object({ id: z.string().regex(/^cmp_[0-9a-f]{24}$/, "a campaign id") });
const pageQuery = z.object({
	cursor: z.string().max(64).optional(),
	limit: z.coerce.number().int().min(1).max(CAMPAIGN_LIMITS.maxPageSize).default(CAMPAIGN_LIMITS.pageSize),
});
const template = (max: number) =>
	z
		.string()
		.min(1)
		.max(max)
		.superRefine((t, ctx) => {
			const error = templateError(t);
			if (error !== null) ctx.addIssue({ code: "custom", message: `not a valid template: ${error}` });
		});
const FROM = z
	.string()
	.trim()
	.min(3)
	.max(320)
	.regex(/^(?:[^<>]*<[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)$/, "an address or Name <address>");
const createBody = z
	.object({
		name: z.string().trim().min(1).max(200),
		list_id: z.string().regex(/^lst_[0-9a-f]{24}$/, "a list id"),
		from: FROM,
		subject: template(998),
		text: template(200_000),
		html: template(500_000).optional(),
	})
	.strict();
const updateBody = z
	.object({
		name: z.string().trim().min(1).max(200),
		subject: template(998),
		text: template(200_000),
		html: template(500_000),
	})
	.partial()
	.strict();
const EVENTS_MAX_MS = 5 * 60_000;

/** Campaigns: drafts, the send/pause/resume/cancel verbs, progress, events and dead letters. */
export const campaignRoutes = new Hono<AppEnv>()
	.post("/", campaignDocs.create, validate("json", createBody), async (c) => {
		const body = c.req.valid("json");
		const tenantId = c.get("principal").tenantId;
		if (!(await getList(c.env.DB, tenantId, body.list_id)))
			throw new AppError(404, "not_found", `No list ${body.list_id}.`);
		const row = {
			campaign_id: newId("cmp"),
			name: body.name,
			list_id: body.list_id,
			from_address: body.from,
			subject: body.subject,
			text_body: body.text,
			html_body: body.html ?? null,
			created_at: Date.now(),
		};
		await insertCampaign(c.env.DB, tenantId, row);
		return c.json(campaignJson(await requireCampaign(c.env, tenantId, row.campaign_id), Date.now()), 201);
	})
	.get("/", campaignDocs.list, validate("query", pageQuery), async (c) => {
		const { cursor, limit } = c.req.valid("query");
		const rows = await listCampaigns(c.env.DB, c.get("principal").tenantId, cursor ?? "", limit + 1);
		const page = rows.slice(0, limit);
		const now = Date.now();
		return c.json({
			campaigns: page.map((r) => campaignJson(r, now)),
			next_cursor: rows.length > limit ? (page.at(-1)?.campaign_id ?? null) : null,
		});
	})
	.get("/:id", campaignDocs.get, validate("param", idParams), async (c) => {
		const row = await requireCampaign(c.env, c.get("principal").tenantId, c.req.valid("param").id);
		return c.json(campaignJson(row, Date.now()));
	})
	.patch("/:id", campaignDocs.update, validate("param", idParams), validate("json", updateBody), async (c) => {
		const tenantId = c.get("principal").tenantId;
		const { id } = c.req.valid("param");
		const b = c.req.valid("json");
		const fields = {
			name: b.name ?? null,
			subject: b.subject ?? null,
			text_body: b.text ?? null,
			html_body: b.html ?? null,
		};
		if (!(await updateDraft(c.env.DB, tenantId, id, fields, Date.now()))) {
			const row = await requireCampaign(c.env, tenantId, id);
			throw new AppError(409, "invalid_campaign_state", `Only a draft can be edited; this campaign is ${row.status}.`);
		}
		return c.json(campaignJson(await requireCampaign(c.env, tenantId, id), Date.now()));
	})
	.delete("/:id", campaignDocs.remove, validate("param", idParams), async (c) => {
		const tenantId = c.get("principal").tenantId;
		const { id } = c.req.valid("param");
		if (!(await deleteDraft(c.env.DB, tenantId, id))) {
			const row = await requireCampaign(c.env, tenantId, id);
			throw new AppError(
				409,
				"invalid_campaign_state",
				`Only a draft or cancelled campaign can be deleted; this one is ${row.status}.`,
			);
		}
		return c.body(null, 204);
	})
	.post(
		"/:id/send",
		campaignDocs.verb("Start sending (202 at once; idempotent)"),
		validate("param", idParams),
		async (c) =>
			c.json(
				campaignJson(
					await changeCampaign(c.env, c.get("principal").tenantId, c.req.valid("param").id, "send"),
					Date.now(),
				),
				202,
			),
	)
	.post("/:id/pause", campaignDocs.verb("Pause sending (idempotent)"), validate("param", idParams), async (c) =>
		c.json(
			campaignJson(
				await changeCampaign(c.env, c.get("principal").tenantId, c.req.valid("param").id, "pause"),
				Date.now(),
			),
			202,
		),
	)
	.post(
		"/:id/resume",
		campaignDocs.verb("Resume a paused campaign (idempotent)"),
		validate("param", idParams),
		async (c) =>
			c.json(
				campaignJson(
					await changeCampaign(c.env, c.get("principal").tenantId, c.req.valid("param").id, "resume"),
					Date.now(),
				),
				202,
			),
	)
	.post(
		"/:id/cancel",
		campaignDocs.verb("Cancel: no further recipient is sent to"),
		validate("param", idParams),
		async (c) =>
			c.json(
				campaignJson(
					await changeCampaign(c.env, c.get("principal").tenantId, c.req.valid("param").id, "cancel"),
					Date.now(),
				),
				202,
			),
	)
	.get("/:id/events", campaignDocs.events, validate("param", idParams), async (c) => {
		const tenantId = c.get("principal").tenantId;
		const { id } = c.req.valid("param");
		await requireCampaign(c.env, tenantId, id);
		return streamSSE(c, async (stream) => {
			const until = Date.now() + EVENTS_MAX_MS;
			let seq = 0;
			while (!stream.aborted && Date.now() < until) {
				const row = await getCampaign(c.env.DB, tenantId, id);
				if (!row) break;
				const done = !["sending", "paused", "draft"].includes(row.status);
				await stream.writeSSE({
					event: done ? "end" : "progress",
					id: String(seq++),
					data: JSON.stringify(campaignJson(row, Date.now())),
				});
				if (done) break;
				await stream.sleep(1000);
			}
		});
	})
	.get(
		"/:id/dead-letters",
		campaignDocs.deadLetters,
		validate("param", idParams),
		validate("query", pageQuery),
		async (c) => {
			const { id } = c.req.valid("param");
			await requireCampaign(c.env, c.get("principal").tenantId, id);
			const { cursor, limit } = c.req.valid("query");
			const after = cursor !== undefined && /^\d{1,16}$/.test(cursor) ? Number(cursor) : 0;
			const rows = await listDeadLetters(c.env.DB, id, after, limit + 1);
			const page = rows.slice(0, limit);
			const last = page.at(-1);
			return c.json({
				dead_letters: page.map(deadLetterJson),
				next_cursor: rows.length > limit && last ? String(last.subscriber_id) : null,
			});
		},
	)
	.post("/:id/dead-letters/retry", campaignDocs.retryDeadLetters, validate("param", idParams), async (c) => {
		const tenantId = c.get("principal").tenantId;
		const { id } = c.req.valid("param");
		const retried = await retryCampaignDeadLetters(c.env, tenantId, id);
		return c.json({ retried, campaign: campaignJson(await requireCampaign(c.env, tenantId, id), Date.now()) }, 202);
	});
