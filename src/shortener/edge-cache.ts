import { z } from "zod";
import type { LinkRow } from "./db";

/**
 * Resolved links in the Cloudflare Cache API (caches.default: per data centre, not replicated),
 * keyed by a synthetic internal URL per slug, so a hot link costs no D1 read in a data centre
 * where some isolate resolved it within EDGE_TTL_SECONDS. PATCH and DELETE delete the entry in the
 * data centre that served them; elsewhere it lives out its TTL. Unknown slugs are not kept here
 * (only in the isolate cache), so a new link is never hidden by a cached miss.
 */

export const EDGE_TTL_SECONDS = 30;
const ORIGIN = "https://shortener-cache.floodgate.internal/links/";

const cachedRowSchema = z.object({
	slug: z.string(),
	tenant_id: z.string(),
	url: z.string(),
	permanent: z.number().int(),
	expires_at: z.number().nullable(),
	max_clicks: z.number().nullable(),
	clicks: z.number(),
	created_at: z.number(),
	deleted_at: z.number().nullable(),
	password_hash: z.string().nullable(),
	tags: z.string(),
});

export function edgeKey(slug: string): string {
	return `${ORIGIN}${encodeURIComponent(slug)}`;
}

/** The cached row, or null on a miss (or an entry that no longer parses). */
export async function readEdgeLink(slug: string): Promise<LinkRow | null> {
	const hit = await caches.default.match(edgeKey(slug));
	if (!hit) return null;
	const parsed = cachedRowSchema.safeParse(await hit.json());
	return parsed.success ? parsed.data : null;
}

export async function writeEdgeLink(row: LinkRow): Promise<void> {
	const headers = { "Content-Type": "application/json", "Cache-Control": `public, max-age=${EDGE_TTL_SECONDS}` };
	await caches.default.put(edgeKey(row.slug), new Response(JSON.stringify(row), { headers }));
}

export async function deleteEdgeLink(slug: string): Promise<void> {
	await caches.default.delete(edgeKey(slug));
}
