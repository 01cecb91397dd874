/**
 * The shortener's SQL around its click dead letters; the rows themselves live in the shared
 * `dead_letters` table (src/platform/dead-letters-db.ts, queue floodgate-clicks), one per tenant
 * whose links a dead message counted.
 */

export const CLICKS_QUEUE_NAME = "floodgate-clicks" as const;

/** The owning tenant of each slug that exists (deleted links included: their clicks still count). */
export async function findSlugTenants(db: D1Database, slugs: readonly string[]): Promise<Map<string, string>> {
	const { results } = await db
		.prepare("SELECT slug, tenant_id FROM links WHERE slug IN (SELECT value FROM json_each(?))")
		.bind(JSON.stringify(slugs))
		.all<{ slug: string; tenant_id: string }>();
	return new Map(results.map((r) => [r.slug, r.tenant_id]));
}
