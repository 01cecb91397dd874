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
		clicks: z.number().int().describe("Counted clicks; written in batches, so a few hundred ms behind."),
		created_at: z.number().int(),
	})
	.meta({ id: "ShortLink" });

const links = (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: ["Short links"], access: "tenant", ...doc }));

const redirectDoc = apiRoute({
	tags: ["Short links"],
	access: "none",
	summary: "Follow a short link (302, or 301 when permanent); ?preview=true shows the destination instead",
	ok: { 200: z.object({ slug: z.string(), url: z.string(), expires_at: z.number().int().nullable() }) },
	errors: [404, 429],
});

export const linkDocs = {
	create: links({ summary: "Shorten a URL (generated or custom slug)", ok: { 201: linkSchema }, errors: [409] }),
	list: links({
		summary: "The tenant's links, newest first",
		ok: { 200: z.object({ links: z.array(linkSchema), next_cursor: z.string().nullable() }) },
	}),
	get: links({ summary: "One link with its click count", ok: { 200: linkSchema }, errors: [404] }),
	update: links({
		summary: "Change a link's destination, expiry, click cap or permanence (null clears)",
		ok: { 200: linkSchema },
		errors: [404],
	}),
	remove: links({
		summary: "Delete a link (its slug then answers 410 and is never reused)",
		ok: { 200: z.object({ slug: z.string(), deleted: z.literal(true) }) },
		errors: [404],
	}),
	stats: links({
		summary: "Clicks per UTC day",
		ok: {
			200: z.object({
				slug: z.string(),
				clicks: z.number().int(),
				days: z.array(z.object({ day: z.string(), clicks: z.number().int() })),
			}),
		},
		errors: [404],
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
			301: { description: "Permanent link: Location is the destination, cacheable for an hour." },
			302: { description: "Location is the destination; `Cache-Control: no-store` so every click is counted." },
			410: {
				description: "The link was deleted, has expired or has reached max_clicks (`link_gone`).",
				content: { "application/json": { schema: resolver(errorBodySchema) } },
			},
		},
	}),
};
