import type { ClickMessage } from "./clicks";

/** The click analytics' SQL: counting queue messages once, and reading the counters back. */

export type Count = { value: string; clicks: number };
export type LinkStatsRows = {
	days: { day: string; clicks: number }[];
	total: number;
	facets: Record<Dimension, Count[]>;
};
type Dimension = "country" | "referrer" | "device";

const DIMENSIONS: readonly Dimension[] = ["country", "referrer", "device"];
/** The message's entries as rows (one bound JSON parameter, so a message of 200 entries is one statement). */
const ENTRIES = `WITH e AS (
	SELECT json_extract(j.value, '$.slug') AS slug, json_extract(j.value, '$.day') AS day,
	       json_extract(j.value, '$.country') AS country, json_extract(j.value, '$.referrer') AS referrer,
	       json_extract(j.value, '$.device') AS device, json_extract(j.value, '$.n') AS n
	FROM json_each(?) j
)`;
/** True only in the delivery whose ledger insert just won: a redelivery of a counted message adds nothing. */
const FIRST_DELIVERY = `EXISTS (SELECT 1 FROM link_click_messages WHERE id = ? AND token = ?)`;

/**
 * Counts one click message in one transaction (a D1 batch): the message id goes into the ledger
 * with this delivery's random token (nothing when the id is there already), then the daily totals,
 * the per-dimension counters and the links' running totals are added only if the ledger row carries
 * this token. A redelivery after a commit counts nothing; a failed attempt rolled back, so its
 * retry counts once. Returns whether this delivery counted it.
 */
export async function countClickMessage(
	db: D1Database,
	message: ClickMessage,
	token: string,
	now: number,
): Promise<boolean> {
	const entries = JSON.stringify(message.entries);
	const [ledger] = await db.batch([
		db
			.prepare(`INSERT INTO link_click_messages (id, token, counted_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING`)
			.bind(message.id, token, now),
		db
			.prepare(
				`${ENTRIES} INSERT INTO link_clicks_daily (slug, day, clicks)
				 SELECT slug, day, SUM(n) FROM e WHERE ${FIRST_DELIVERY} GROUP BY slug, day
				 ON CONFLICT (slug, day) DO UPDATE SET clicks = clicks + excluded.clicks`,
			)
			.bind(entries, message.id, token),
		db
			.prepare(
				`${ENTRIES} INSERT INTO link_click_facets (slug, day, dimension, value, clicks)
				 SELECT slug, day, dimension, value, SUM(n) FROM (
				   SELECT slug, day, 'country' AS dimension, country AS value, n FROM e
				   UNION ALL SELECT slug, day, 'referrer', referrer, n FROM e
				   UNION ALL SELECT slug, day, 'device', device, n FROM e
				 ) WHERE ${FIRST_DELIVERY} GROUP BY slug, day, dimension, value
				 ON CONFLICT (slug, day, dimension, value) DO UPDATE SET clicks = clicks + excluded.clicks`,
			)
			.bind(entries, message.id, token),
		db
			.prepare(
				`${ENTRIES} UPDATE links SET clicks = links.clicks + t.n
				 FROM (SELECT slug, SUM(n) AS n FROM e GROUP BY slug) AS t
				 WHERE links.slug = t.slug AND ${FIRST_DELIVERY}`,
			)
			.bind(entries, message.id, token),
	]);
	return (ledger?.meta.changes ?? 0) > 0;
}

/** Daily totals (oldest first) and the top `top` values of each dimension over [from, to] (UTC days). */
export async function linkStats(
	db: D1Database,
	slug: string,
	from: string,
	to: string,
	top: number,
): Promise<LinkStatsRows> {
	const [days, ...facets] = await db.batch<{ day: string; clicks: number } & Count>([
		db
			.prepare(`SELECT day, clicks FROM link_clicks_daily WHERE slug = ? AND day >= ? AND day <= ? ORDER BY day`)
			.bind(slug, from, to),
		...DIMENSIONS.map((dimension) =>
			db
				.prepare(
					`SELECT value, SUM(clicks) AS clicks FROM link_click_facets
					 WHERE slug = ? AND dimension = ? AND day >= ? AND day <= ?
					 GROUP BY value ORDER BY clicks DESC, value LIMIT ?`,
				)
				.bind(slug, dimension, from, to, top),
		),
	]);
	const dayRows = (days?.results ?? []).map((r) => ({ day: r.day, clicks: r.clicks }));
	const pick = (i: number): Count[] => (facets[i]?.results ?? []).map((r) => ({ value: r.value, clicks: r.clicks }));
	return {
		days: dayRows,
		total: dayRows.reduce((sum, r) => sum + r.clicks, 0),
		facets: { country: pick(0), referrer: pick(1), device: pick(2) },
	};
}

/** Ledger rows older than `cutoff` (a redelivery can no longer arrive): at most `limit` of the oldest. */
export async function purgeClickMessages(db: D1Database, cutoff: number, limit: number): Promise<number> {
	const res = await db
		.prepare(
			`DELETE FROM link_click_messages WHERE id IN
			 (SELECT id FROM link_click_messages WHERE counted_at < ? ORDER BY counted_at LIMIT ?)`,
		)
		.bind(cutoff, limit)
		.run();
	return res.meta.changes;
}
