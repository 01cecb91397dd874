import { describeRoute, resolver } from "hono-openapi";
import { z } from "zod";
import { apiRoute, errorBodySchema } from "../platform/openapi";
import type { RouteDoc } from "../platform/openapi";

/** The shortener's answers as schemas and its routes' OpenAPI descriptions. */

export const linkSchema = z
	.object({
		slug: z.string(),
		short_url: z.string().describe("The public redirect, /s/{slug} on this host."),
		url: z.string().describe("The destination."),
		permanent: z.boolean().describe("301 instead of 302 (browsers cache it: later clicks are not counted)."),
		expires_at: z.number().int().nullable(),
		max_clicks: z.number().int().nullable(),
		clicks: z
			.number()
			.int()
			.describe("Counted clicks; counted through the floodgate-clicks queue, so a second or two behind."),
		created_at: z.number().int(),
		protected: z.boolean().describe("A password is asked before the redirect (the password is never returned)."),
		tags: z.array(z.string()).describe("Up to 10 tags, each 1-32 of [a-z0-9_-]; filter with GET /api/v1/links?tag="),
	})
	.meta({ id: "ShortLink" });

const links = (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: ["Short links"], access: "tenant", ...doc }));

const previewSchema = z.object({ slug: z.string(), url: z.string(), expires_at: z.number().int().nullable() });
const redirectDoc = apiRoute({
	tags: ["Short links"],
	access: "none",
	summary:
		"Follow a short link (302, or 301 when permanent); ?preview=true shows the destination instead; a protected link answers its password form",
	ok: { 200: previewSchema },
	errors: [404, 429, 503],
});
const unlockDoc = apiRoute({
	tags: ["Short links"],
	access: "none",
	summary: "Open a password-protected link: the form field `password`; 303 to the destination when right",
	ok: {},
	errors: [400, 404, 413, 429, 503],
});
const countSchema = z.array(z.object({ value: z.string(), clicks: z.number().int() }));
const htmlForm = {
	description: "A protected link: a small HTML form asking for its password (`Cache-Control: no-store`).",
	content: { "text/html": { schema: { type: "string" as const } } },
};

export const linkDocs = {
	create: links({ summary: "Shorten a URL (generated or custom slug)", ok: { 201: linkSchema }, errors: [409] }),
	list: links({
		summary: "The tenant's links, newest first; ?tag= only those carrying the tag",
		ok: { 200: z.object({ links: z.array(linkSchema), next_cursor: z.string().nullable() }) },
	}),
	get: links({ summary: "One link with its click count", ok: { 200: linkSchema }, errors: [404] }),
	update: links({
		summary: "Change a link's destination, expiry, click cap, permanence, password or tags (null clears)",
		ok: { 200: linkSchema },
		errors: [404],
	}),
	remove: links({
		summary: "Delete a link (its slug then answers 410 and is never reused)",
		ok: { 200: z.object({ slug: z.string(), deleted: z.literal(true) }) },
		errors: [404],
	}),
	stats: links({
		summary:
			"Clicks over [from, to] (UTC days, at most 366; default the last `days`=30): per day, and the top `top` (10, at most 50) countries, referrer hosts and device classes",
		ok: {
			200: z.object({
				slug: z.string(),
				clicks: z.number().int().describe("All counted clicks of the link."),
				from: z.string(),
				to: z.string(),
				total: z.number().int().describe("Clicks within [from, to]."),
				days: z.array(z.object({ day: z.string(), clicks: z.number().int() })),
				countries: countSchema.describe("Two-letter codes from Cloudflare; XX when unknown."),
				referrers: countSchema.describe("Referer hosts only; (direct) without one."),
				devices: countSchema.describe("mobile, tablet, desktop or bot, from the User-Agent."),
			}),
		},
		errors: [400, 404],
	}),
	qrSvg: links({
		summary: "A QR code of the link's short URL, as SVG",
		ok: { 200: { description: "An SVG image.", content: { "image/svg+xml": { schema: { type: "string" } } } } },
		errors: [404],
	}),
	qrPng: links({
		summary: "A QR code of the link's short URL, as PNG (8 pixels per module)",
		ok: {
			200: {
				description: "A PNG image.",
				content: { "image/png": { schema: { type: "string", format: "binary" } } },
			},
		},
		errors: [404],
	}),
	redirect: describeRoute({
		...redirectDoc,
		responses: {
			...redirectDoc.responses,
			200: {
				description: "?preview=true: the destination as JSON; for a protected link, its password form (HTML).",
				content: { "application/json": { schema: resolver(previewSchema) }, ...htmlForm.content },
			},
			301: { description: "Permanent link: Location is the destination, cacheable for an hour." },
			302: { description: "Location is the destination; `Cache-Control: no-store` so every click is counted." },
			410: {
				description: "The link was deleted, has expired or has reached max_clicks (`link_gone`).",
				content: { "application/json": { schema: resolver(errorBodySchema) } },
			},
		},
	}),
	unlock: describeRoute({
		...unlockDoc,
		responses: {
			...unlockDoc.responses,
			303: { description: "The password is right: Location is the destination, `Cache-Control: no-store`." },
			401: { ...htmlForm, description: "A wrong password: the form again, with a message." },
			410: {
				description: "The link was deleted, has expired or has reached max_clicks (`link_gone`).",
				content: { "application/json": { schema: resolver(errorBodySchema) } },
			},
		},
	}),
};

const clickDeadLetterSchema = z
	.object({
		id: z.string(),
		queue: z.literal("floodgate-clicks"),
		clicks: z.number().int().describe("Clicks the message carries for this tenant's links."),
		reason: z.string(),
		attempts: z.number().int(),
		created_at: z.string().describe("When it (last) died."),
		replayed_at: z.string().nullable(),
		replay_count: z.number().int(),
		body: z.unknown().describe("The click message as it goes back to floodgate-clicks: {id, entries}."),
	})
	.meta({ id: "ClickDeadLetter" });

export const deadLetterDocs = {
	list: links({
		summary:
			"Click messages that kept failing (this tenant's part of each), newest first; ?status=pending|replayed|all (cursor-paginated, at most 100 a page)",
		ok: { 200: z.object({ dead_letters: z.array(clickDeadLetterSchema), next_cursor: z.string().nullable() }) },
		errors: [400],
	}),
	replay: links({
		summary: "Send a pending click dead letter back to floodgate-clicks (counted once however often it is replayed)",
		ok: { 202: clickDeadLetterSchema },
		errors: [404, 409, 422],
	}),
};
