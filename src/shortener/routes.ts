import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import { linkStats } from "./clicks-db";
import type { LinkRow } from "./db";
import { findTenantLink, listLinks, listLinksByTag, softDeleteLink } from "./db";
import { CUSTOM_SLUG_PATTERN, MAX_TAGS, TAG_PATTERN, decodeCursor, encodeCursor, utcDay } from "./domain";
import { linkDocs } from "./openapi";
import { qrPng, qrSvg } from "./qr";
import { changeLink, createLink, forgetLink } from "./service";

const SLUG = z.string().regex(CUSTOM_SLUG_PATTERN, "3-64 of letters, digits, '_' and '-'");
const TAGS = z.array(z.string().regex(TAG_PATTERN, "1-32 of a-z, 0-9, '_' and '-'")).max(MAX_TAGS);
/** A link password: 1-128 characters (the form's maxlength), stored only as an Argon2id hash. */
const PASSWORD = z.string().min(1).max(128);
const DAY = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "a UTC day, YYYY-MM-DD");
const DAY_MS = 86_400_000;
const MAX_STATS_DAYS = 366;

const createBody = z
	.object({
		url: z.string().min(1).max(2048),
		slug: SLUG.optional(),
		expires_at: z.number().int().positive().max(8_640_000_000_000).optional(),
		max_clicks: z.number().int().positive().max(1_000_000_000).optional(),
		permanent: z.boolean().default(false),
		password: PASSWORD.optional(),
		tags: TAGS.default([]),
	})
	.strict();
const patchBody = z
	.object({
		url: z.string().min(1).max(2048).optional(),
		expires_at: z.number().int().positive().max(8_640_000_000_000).nullable().optional(),
		max_clicks: z.number().int().positive().max(1_000_000_000).nullable().optional(),
		permanent: z.boolean().optional(),
		password: PASSWORD.nullable().optional(),
		tags: TAGS.optional(),
	})
	.strict();
const slugParams = z.object({ slug: SLUG });
const listQuery = z
	.object({
		cursor: z
			.string()
			.regex(/^\d{1,16}\.[A-Za-z0-9_-]{3,64}$/, "a cursor from next_cursor")
			.optional(),
		limit: z.coerce.number().int().min(1).max(100).default(50),
		tag: z.string().regex(TAG_PATTERN, "1-32 of a-z, 0-9, '_' and '-'").optional(),
	})
	.strict();
const statsQuery = z
	.object({
		from: DAY.optional(),
		to: DAY.optional(),
		days: z.coerce.number().int().min(1).max(MAX_STATS_DAYS).default(30),
		top: z.coerce.number().int().min(1).max(50).default(10),
	})
	.strict();

/** Tenant API (API key): create, list, read, change, delete links and read their click analytics. */
export const linkRoutes = new Hono<AppEnv>()
	.post("/", linkDocs.create, validate("json", createBody), async (c) => {
		const body = c.req.valid("json");
		if (body.expires_at !== undefined && body.expires_at <= Date.now())
			throw new AppError(400, "validation_failed", "expires_at must be in the future.");
		const input = {
			url: body.url,
			slug: body.slug,
			expiresAt: body.expires_at ?? null,
			maxClicks: body.max_clicks ?? null,
			permanent: body.permanent,
			password: body.password ?? null,
			tags: body.tags,
		};
		const row = await createLink(c.env.DB, c.get("principal").tenantId, input, new URL(c.req.url).hostname, Date.now());
		return c.json(linkJson(row, c.req.url), 201);
	})
	.get("/", linkDocs.list, validate("query", listQuery), async (c) => {
		const { cursor, limit, tag } = c.req.valid("query");
		const tenantId = c.get("principal").tenantId;
		const after = cursor ? decodeCursor(cursor) : null;
		const rows = tag
			? await listLinksByTag(c.env.DB, tenantId, tag, after, limit + 1)
			: await listLinks(c.env.DB, tenantId, after, limit + 1);
		const page = rows.slice(0, limit);
		const last = page.at(-1);
		return c.json({
			links: page.map((row) => linkJson(row, c.req.url)),
			next_cursor: rows.length > limit && last ? encodeCursor(last.created_at, last.slug) : null,
		});
	})
	.get("/:slug", linkDocs.get, validate("param", slugParams), async (c) => {
		return c.json(
			linkJson(await requireLink(c.env.DB, c.get("principal").tenantId, c.req.valid("param").slug), c.req.url),
		);
	})
	.patch("/:slug", linkDocs.update, validate("param", slugParams), validate("json", patchBody), async (c) => {
		const body = c.req.valid("json");
		const current = await requireLink(c.env.DB, c.get("principal").tenantId, c.req.valid("param").slug);
		const changes = {
			url: body.url,
			expiresAt: body.expires_at,
			maxClicks: body.max_clicks,
			permanent: body.permanent,
			password: body.password,
			tags: body.tags,
		};
		const row = await changeLink(c.env.DB, current, changes, new URL(c.req.url).hostname);
		if (!row) throw notFound(current.slug);
		return c.json(linkJson(row, c.req.url));
	})
	.delete("/:slug", linkDocs.remove, validate("param", slugParams), async (c) => {
		const { slug } = c.req.valid("param");
		if (!(await softDeleteLink(c.env.DB, c.get("principal").tenantId, slug, Date.now()))) throw notFound(slug);
		await forgetLink(slug);
		return c.json({ slug, deleted: true as const });
	})
	.get("/:slug/stats", linkDocs.stats, validate("param", slugParams), validate("query", statsQuery), async (c) => {
		const link = await requireLink(c.env.DB, c.get("principal").tenantId, c.req.valid("param").slug);
		const query = c.req.valid("query");
		const to = query.to ?? utcDay(Date.now());
		const from = query.from ?? utcDay(Date.parse(to) - (query.days - 1) * DAY_MS);
		const span = (Date.parse(to) - Date.parse(from)) / DAY_MS + 1;
		if (!(span >= 1 && span <= MAX_STATS_DAYS))
			throw new AppError(400, "validation_failed", `from must be on or before to, at most ${MAX_STATS_DAYS} days.`);
		const stats = await linkStats(c.env.DB, link.slug, from, to, query.top);
		return c.json({
			slug: link.slug,
			clicks: link.clicks,
			from,
			to,
			total: stats.total,
			days: stats.days,
			countries: stats.facets.country,
			referrers: stats.facets.referrer,
			devices: stats.facets.device,
		});
	})
	// QR codes of the short URL (not the destination: scans are counted and the target can change).
	.get("/:slug/qr.svg", linkDocs.qrSvg, validate("param", slugParams), async (c) => {
		const link = await requireLink(c.env.DB, c.get("principal").tenantId, c.req.valid("param").slug);
		c.header("Cache-Control", "private, max-age=3600");
		return c.body(await qrSvg(linkJson(link, c.req.url).short_url), 200, { "Content-Type": "image/svg+xml" });
	})
	.get("/:slug/qr.png", linkDocs.qrPng, validate("param", slugParams), async (c) => {
		const link = await requireLink(c.env.DB, c.get("principal").tenantId, c.req.valid("param").slug);
		c.header("Cache-Control", "private, max-age=3600");
		return c.body(await qrPng(linkJson(link, c.req.url).short_url), 200, { "Content-Type": "image/png" });
	});

async function requireLink(db: D1Database, tenantId: string, slug: string): Promise<LinkRow> {
	const row = await findTenantLink(db, tenantId, slug);
	if (!row) throw notFound(slug);
	return row;
}

function notFound(slug: string): AppError {
	return new AppError(404, "not_found", `No short link '${slug}'.`);
}

const tagListSchema = z.array(z.string());

function linkJson(row: LinkRow, requestUrl: string) {
	const tags = tagListSchema.safeParse(JSON.parse(row.tags));
	return {
		slug: row.slug,
		short_url: new URL(`/s/${row.slug}`, requestUrl).href,
		url: row.url,
		permanent: row.permanent === 1,
		expires_at: row.expires_at,
		max_clicks: row.max_clicks,
		clicks: row.clicks,
		created_at: row.created_at,
		protected: row.password_hash !== null,
		tags: tags.success ? tags.data : [],
	};
}
