/** The shortener's SQL: links, their tags and their daily click counts. */

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
	/** Argon2id PHC string, or null when the link is not protected. */
	password_hash: string | null;
	/** JSON array of tags (link_tags is derived from it in the same transaction). */
	tags: string;
};
export type NewLink = Omit<LinkRow, "clicks" | "deleted_at">;
export type LinkFields = Pick<LinkRow, "url" | "permanent" | "expires_at" | "max_clicks" | "password_hash" | "tags">;
export type LinkPage = { createdAt: number; slug: string } | null;

const COLUMNS =
	"slug, tenant_id, url, permanent, expires_at, max_clicks, clicks, created_at, deleted_at, password_hash, tags";
const L_COLUMNS = COLUMNS.split(", ")
	.map((c) => `l.${c}`)
	.join(", ");
/** link_tags rows of one tenant's link, derived from its tags column (json_each). */
const DERIVE_TAGS = `INSERT OR IGNORE INTO link_tags (slug, tenant_id, tag, created_at)
	SELECT l.slug, l.tenant_id, j.value, l.created_at FROM links l, json_each(l.tags) j`;

/**
 * Inserts a link and its tag rows in one transaction unless its slug exists (anywhere on the
 * platform); false when taken. The tag rows are derived only from the row this call wrote (same
 * tenant, creation time, destination and tags), never attached to someone else's slug.
 */
export async function insertLink(db: D1Database, link: NewLink): Promise<boolean> {
	const [inserted] = await db.batch<{ slug: string }>([
		db
			.prepare(
				`INSERT INTO links (slug, tenant_id, url, permanent, expires_at, max_clicks, created_at, password_hash, tags)
				 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (slug) DO NOTHING RETURNING slug`,
			)
			.bind(
				link.slug,
				link.tenant_id,
				link.url,
				link.permanent,
				link.expires_at,
				link.max_clicks,
				link.created_at,
				link.password_hash,
				link.tags,
			),
		db
			.prepare(`${DERIVE_TAGS} WHERE l.slug = ? AND l.tenant_id = ? AND l.created_at = ? AND l.url = ? AND l.tags = ?`)
			.bind(link.slug, link.tenant_id, link.created_at, link.url, link.tags),
	]);
	return (inserted?.results.length ?? 0) > 0;
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
export async function listLinks(db: D1Database, tenantId: string, after: LinkPage, limit: number): Promise<LinkRow[]> {
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

/** A page of a tenant's live links carrying `tag`, newest first (one range of link_tags_by_tenant). */
export async function listLinksByTag(
	db: D1Database,
	tenantId: string,
	tag: string,
	after: LinkPage,
	limit: number,
): Promise<LinkRow[]> {
	const page = after ? "AND (t.created_at < ? OR (t.created_at = ? AND t.slug < ?))" : "";
	const { results } = await db
		.prepare(
			`SELECT ${L_COLUMNS} FROM link_tags t JOIN links l ON l.slug = t.slug
			 WHERE t.tenant_id = ? AND t.tag = ? AND l.deleted_at IS NULL ${page}
			 ORDER BY t.created_at DESC, t.slug DESC LIMIT ?`,
		)
		.bind(tenantId, tag, ...(after ? [after.createdAt, after.createdAt, after.slug] : []), limit)
		.all<LinkRow>();
	return results;
}

/**
 * Replaces the changeable fields of a tenant's live link and its tag rows, in one transaction;
 * null when it has none by that slug.
 */
export async function updateLink(
	db: D1Database,
	tenantId: string,
	slug: string,
	fields: LinkFields,
): Promise<LinkRow | null> {
	const [updated] = await db.batch<LinkRow>([
		db
			.prepare(
				`UPDATE links SET url = ?, permanent = ?, expires_at = ?, max_clicks = ?, password_hash = ?, tags = ?
				 WHERE slug = ? AND tenant_id = ? AND deleted_at IS NULL RETURNING ${COLUMNS}`,
			)
			.bind(
				fields.url,
				fields.permanent,
				fields.expires_at,
				fields.max_clicks,
				fields.password_hash,
				fields.tags,
				slug,
				tenantId,
			),
		db.prepare(`DELETE FROM link_tags WHERE slug = ? AND tenant_id = ?`).bind(slug, tenantId),
		db.prepare(`${DERIVE_TAGS} WHERE l.slug = ? AND l.tenant_id = ? AND l.deleted_at IS NULL`).bind(slug, tenantId),
	]);
	return updated?.results[0] ?? null;
}

/** Marks a tenant's live link deleted; false when it has none by that slug. */
export async function softDeleteLink(db: D1Database, tenantId: string, slug: string, now: number): Promise<boolean> {
	const row = await db
		.prepare(`UPDATE links SET deleted_at = ? WHERE slug = ? AND tenant_id = ? AND deleted_at IS NULL RETURNING slug`)
		.bind(now, slug, tenantId)
		.first<{ slug: string }>();
	return row !== null;
}

/** The clicks D1 has counted for a slug (fresh: seeds a capped link's grant counter); null without a row. */
export async function findCountedClicks(db: D1Database, slug: string): Promise<number | null> {
	const row = await db.prepare(`SELECT clicks FROM links WHERE slug = ?`).bind(slug).first<{ clicks: number }>();
	return row ? row.clicks : null;
}
