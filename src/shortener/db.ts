import type { ClickKey } from "./domain";

/** The shortener's SQL: links and their daily click counts. */

export type LinkRow = {
	slug: string;
	tenant_id: string;
	url: string;
	permanent: number;
	expires_at: number | null;
	max_clicks: number | null;
	clicks: number;
	created_at: number;
	deleted_at: number | null;
};
export type NewLink = Omit<LinkRow, "clicks" | "deleted_at">;

const COLUMNS = "slug, tenant_id, url, permanent, expires_at, max_clicks, clicks, created_at, deleted_at";

/** Inserts a link unless its slug exists (anywhere on the platform); false when taken. */
export async function insertLink(db: D1Database, link: NewLink): Promise<boolean> {
	const row = await db
		.prepare(
			`INSERT INTO links (slug, tenant_id, url, permanent, expires_at, max_clicks, created_at)
			 VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (slug) DO NOTHING RETURNING slug`,
		)
		.bind(link.slug, link.tenant_id, link.url, link.permanent, link.expires_at, link.max_clicks, link.created_at)
		.first<{ slug: string }>();
	return row !== null;
}

/** Any tenant's link by slug (the public redirect). */
export function findLink(db: D1Database, slug: string): Promise<LinkRow | null> {
	return db.prepare(`SELECT ${COLUMNS} FROM links WHERE slug = ?`).bind(slug).first<LinkRow>();
}

/** A tenant's own live link; another tenant's or a deleted one is null. */
export function findTenantLink(db: D1Database, tenantId: string, slug: string): Promise<LinkRow | null> {
	return db
		.prepare(`SELECT ${COLUMNS} FROM links WHERE slug = ? AND tenant_id = ? AND deleted_at IS NULL`)
		.bind(slug, tenantId)
		.first<LinkRow>();
}

/** A page of a tenant's live links, newest first. */
export async function listLinks(
	db: D1Database,
	tenantId: string,
	after: { createdAt: number; slug: string } | null,
	limit: number,
): Promise<LinkRow[]> {
	const { results } = after
		? await db
				.prepare(
					`SELECT ${COLUMNS} FROM links WHERE tenant_id = ? AND deleted_at IS NULL
					 AND (created_at < ? OR (created_at = ? AND slug < ?)) ORDER BY created_at DESC, slug DESC LIMIT ?`,
				)
				.bind(tenantId, after.createdAt, after.createdAt, after.slug, limit)
				.all<LinkRow>()
		: await db
				.prepare(
					`SELECT ${COLUMNS} FROM links WHERE tenant_id = ? AND deleted_at IS NULL
					 ORDER BY created_at DESC, slug DESC LIMIT ?`,
				)
				.bind(tenantId, limit)
				.all<LinkRow>();
	return results;
}

/** Replaces the changeable fields of a tenant's live link; null when it has none by that slug. */
export function updateLink(
	db: D1Database,
	tenantId: string,
	slug: string,
	fields: Pick<LinkRow, "url" | "permanent" | "expires_at" | "max_clicks">,
): Promise<LinkRow | null> {
	return db
		.prepare(
			`UPDATE links SET url = ?, permanent = ?, expires_at = ?, max_clicks = ?
			 WHERE slug = ? AND tenant_id = ? AND deleted_at IS NULL RETURNING ${COLUMNS}`,
		)
		.bind(fields.url, fields.permanent, fields.expires_at, fields.max_clicks, slug, tenantId)
		.first<LinkRow>();
}

/** Marks a tenant's live link deleted; false when it has none by that slug. */
export async function softDeleteLink(db: D1Database, tenantId: string, slug: string, now: number): Promise<boolean> {
	const row = await db
		.prepare(`UPDATE links SET deleted_at = ? WHERE slug = ? AND tenant_id = ? AND deleted_at IS NULL RETURNING slug`)
		.bind(now, slug, tenantId)
		.first<{ slug: string }>();
	return row !== null;
}

/** Clicks per UTC day of one link, oldest first, for the last `days` days. */
export async function dailyClicks(
	db: D1Database,
	slug: string,
	fromDay: string,
): Promise<{ day: string; clicks: number }[]> {
	const { results } = await db
		.prepare(`SELECT day, clicks FROM link_clicks_daily WHERE slug = ? AND day >= ? ORDER BY day`)
		.bind(slug, fromDay)
		.all<{ day: string; clicks: number }>();
	return results;
}

/** Adds counted clicks: two statements per (slug, day), one batch (the caller bounds the count). */
export async function addClicks(db: D1Database, counts: readonly (ClickKey & { clicks: number })[]): Promise<void> {
	if (counts.length === 0) return;
	const daily = db.prepare(
		`INSERT INTO link_clicks_daily (slug, day, clicks) VALUES (?, ?, ?)
		 ON CONFLICT (slug, day) DO UPDATE SET clicks = clicks + excluded.clicks`,
	);
	const total = db.prepare(`UPDATE links SET clicks = clicks + ? WHERE slug = ?`);
	await db.batch(counts.flatMap((c) => [daily.bind(c.slug, c.day, c.clicks), total.bind(c.clicks, c.slug)]));
}
