import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import type { LinkRow } from "./db";
import { dailyClicks, findTenantLink, listLinks, softDeleteLink } from "./db";
import { CUSTOM_SLUG_PATTERN, decodeCursor, encodeCursor, linkState, utcDay } from "./domain";
import { linkDocs } from "./openapi";
import { qrPng, qrSvg } from "./qr";
import { changeLink, createLink, forgetLink, limitRedirect, pendingClicks, recordClick, resolveLink } from "./service";

const SLUG = z.string().regex(CUSTOM_SLUG_PATTERN, "3-64 of letters, digits, '_' and '-'");
const DAY_MS = 86_400_000;

const createBody = z
	.object({
		url: z.string().min(1).max(2048),
		slug: SLUG.optional(),
		expires_at: z.number().int().positive().max(8_640_000_000_000).optional(),
		max_clicks: z.number().int().positive().max(1_000_000_000).optional(),
		permanent: z.boolean().default(false),
	})
	.strict();
const patchBody = z
	.object({
		url: z.string().min(1).max(2048).optional(),
		expires_at: z.number().int().positive().max(8_640_000_000_000).nullable().optional(),
		max_clicks: z.number().int().positive().max(1_000_000_000).nullable().optional(),
		permanent: z.boolean().optional(),
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
	})
	.strict();
const statsQuery = z.object({ days: z.coerce.number().int().min(1).max(366).default(30) }).strict();
/** Any path segment: a slug that could never exist is a 404 like an unknown one, not a 400. */
const redirectParams = z.object({ slug: z.string().max(200) });
const redirectQuery = z.object({ preview: z.enum(["true", "false"]).optional() });

/** Tenant API (API key): create, list, read, delete links and read their daily clicks. */
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
		};
		const row = await createLink(c.env.DB, c.get("principal").tenantId, input, new URL(c.req.url).hostname, Date.now());
		return c.json(linkJson(row, c.req.url), 201);
	})
	.get("/", linkDocs.list, validate("query", listQuery), async (c) => {
		const { cursor, limit } = c.req.valid("query");
		const rows = await listLinks(
			c.env.DB,
			c.get("principal").tenantId,
			cursor ? decodeCursor(cursor) : null,
			limit + 1,
		);
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
		};
		const row = await changeLink(c.env.DB, current, changes, new URL(c.req.url).hostname);
		if (!row) throw notFound(current.slug);
		return c.json(linkJson(row, c.req.url));
	})
	.delete("/:slug", linkDocs.remove, validate("param", slugParams), async (c) => {
		const { slug } = c.req.valid("param");
		if (!(await softDeleteLink(c.env.DB, c.get("principal").tenantId, slug, Date.now()))) throw notFound(slug);
		forgetLink(slug);
		return c.json({ slug, deleted: true as const });
	})
	.get("/:slug/stats", linkDocs.stats, validate("param", slugParams), validate("query", statsQuery), async (c) => {
		const link = await requireLink(c.env.DB, c.get("principal").tenantId, c.req.valid("param").slug);
		const days = await dailyClicks(c.env.DB, link.slug, utcDay(Date.now() - (c.req.valid("query").days - 1) * DAY_MS));
		return c.json({ slug: link.slug, clicks: link.clicks, days });
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

/** The public redirect: no credential; limited per client IP and per link. */
export const redirectRoutes = new Hono<AppEnv>().get(
	"/:slug",
	linkDocs.redirect,
	validate("param", redirectParams),
	validate("query", redirectQuery),
	async (c) => {
		const { slug } = c.req.valid("param");
		if (!CUSTOM_SLUG_PATTERN.test(slug)) throw notFound(slug);
		await limitRedirect(c.env.RATE_LIMITER, c.req.header("CF-Connecting-IP") ?? "unknown", slug);
		const link = await resolveLink(c.env.DB, slug);
		if (!link) throw notFound(slug);
		const now = Date.now();
		const facts = {
			expiresAt: link.expires_at,
			maxClicks: link.max_clicks,
			clicks: link.clicks,
			deletedAt: link.deleted_at,
		};
		const state = linkState(facts, now, pendingClicks(slug));
		if (state !== "active") throw new AppError(410, "link_gone", `Short link '${slug}' is ${state}.`, { state });
		if (c.req.valid("query").preview === "true") return c.json({ slug, url: link.url, expires_at: link.expires_at });
		recordClick(c.env.DB, c.executionCtx, slug, now);
		const permanent = link.permanent === 1;
		c.header("Cache-Control", permanent ? "public, max-age=3600" : "no-store");
		return c.redirect(link.url, permanent ? 301 : 302);
	},
);

async function requireLink(db: D1Database, tenantId: string, slug: string): Promise<LinkRow> {
	const row = await findTenantLink(db, tenantId, slug);
	if (!row) throw notFound(slug);
	return row;
}

function notFound(slug: string): AppError {
	return new AppError(404, "not_found", `No short link '${slug}'.`);
}

function linkJson(row: LinkRow, requestUrl: string) {
	return {
		slug: row.slug,
		short_url: new URL(`/s/${row.slug}`, requestUrl).href,
		url: row.url,
		permanent: row.permanent === 1,
		expires_at: row.expires_at,
		max_clicks: row.max_clicks,
		clicks: row.clicks,
		created_at: row.created_at,
	};
}
