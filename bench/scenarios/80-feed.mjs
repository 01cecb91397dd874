// News feed (issue 17 §3): home timeline p50/p99 for a reader following 500 authors, 5 of them
// celebrities (merged on read) with BENCH_FEED_CELEBRITY_FOLLOWERS followers each (default 100,000),
// latest and ranked (top), against GET /api/v1/health; and fan-out throughput: feed entries
// written per second by the floodgate-feed consumer for posts of an author with
// BENCH_FEED_FANOUT_FOLLOWERS active followers (default 9,000, under the celebrity threshold).
// Authors, followers, posts and the reader's fanned-out feed are seeded straight into local D1;
// the reader and the fan-out author are real accounts with access tokens.
import { drive, fmt } from "../lib/load.mjs";

export const title = "News feed: home timeline p50/p99 (500 followed, 5 celebrities), fan-out entries/s";

const AUTHORS = 500;
const CELEBRITIES = 5;
const POSTS_PER_AUTHOR = Number(process.env.BENCH_FEED_POSTS_PER_AUTHOR ?? 10);
const CELEBRITY_FOLLOWERS = Number(process.env.BENCH_FEED_CELEBRITY_FOLLOWERS ?? 100_000);
const FANOUT_FOLLOWERS = Number(process.env.BENCH_FEED_FANOUT_FOLLOWERS ?? 9_000);
const FANOUT_POSTS = Number(process.env.BENCH_FEED_FANOUT_POSTS ?? 10);
const FEED_CAP = 800;
const PASSWORD = "bench correct horse battery";

export async function run({ url, admin, platform, log }) {
	const seconds = Number(process.env.BENCH_SECONDS ?? 8);
	const created = await admin("POST", "/tenants", { name: "bench-feed" });
	if (created.status !== 201) throw new Error(`tenant creation failed: ${created.status}`);
	const { tenant_id: tenantId } = await created.json();
	const db = await platform.mf.getD1Database("DB");
	const reader = await signUp(url, tenantId, "reader", "10.0.0.1");
	const writer = await signUp(url, tenantId, "writer", "10.0.0.2");
	const now = Date.now();

	await seedAuthors(db, tenantId, reader.userId, now);
	log(
		`seeded ${AUTHORS} authors (${CELEBRITIES} with ${fmt(CELEBRITY_FOLLOWERS)} followers), ${fmt(AUTHORS * POSTS_PER_AUTHOR)} posts`,
	);

	const auth = { authorization: `Bearer ${reader.token}` };
	const health = await drive({ url: `${url}/api/v1/health`, connections: 16, duration: seconds });
	const latest = await drive({
		url: `${url}/api/v1/timeline/home?limit=20`,
		headers: auth,
		connections: 16,
		duration: seconds,
	});
	const top = await drive({
		url: `${url}/api/v1/timeline/home?ranking=top&limit=20`,
		headers: auth,
		connections: 16,
		duration: seconds,
	});
	log(`health p50 ${health.p50} ms; home latest p50 ${latest.p50} / p99 ${latest.p99} ms, ${fmt(latest.rps)} req/s`);
	log(`home top p50 ${top.p50} / p99 ${top.p99} ms, ${fmt(top.rps)} req/s`);

	// Fan-out: FANOUT_FOLLOWERS active followers of the writer, then FANOUT_POSTS posts through the API.
	await db
		.prepare(
			`INSERT INTO social_profiles (tenant_id, user_id, last_active_at, updated_at)
			 SELECT ?1, 'ff_' || x, ?2, ?2 FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?3) SELECT x FROM c)`,
		)
		.bind(tenantId, Date.now(), FANOUT_FOLLOWERS)
		.run();
	await followers(db, tenantId, writer.userId, "ff_", FANOUT_FOLLOWERS, now);
	const started = Date.now();
	const postIds = [];
	for (let i = 0; i < FANOUT_POSTS; i++) {
		const res = await fetch(`${url}/api/v1/posts`, {
			method: "POST",
			headers: { authorization: `Bearer ${writer.token}`, "content-type": "application/json" },
			body: JSON.stringify({ body: `fan-out ${i}` }),
		});
		if (res.status !== 201) throw new Error(`post failed: ${res.status} ${await res.text()}`);
		postIds.push((await res.json()).id);
	}
	const expected = FANOUT_FOLLOWERS * FANOUT_POSTS;
	let written = 0;
	while (written < expected) {
		if (Date.now() - started > 300_000) throw new Error(`fan-out incomplete: ${written} of ${expected}`);
		await new Promise((r) => setTimeout(r, 250));
		const row = await db
			.prepare(
				`SELECT COUNT(*) AS n FROM social_feed WHERE tenant_id = ? AND post_id IN (SELECT value FROM json_each(?))`,
			)
			.bind(tenantId, JSON.stringify(postIds))
			.first();
		written = row.n;
	}
	const fanoutS = (Date.now() - started) / 1000;
	log(`fan-out: ${fmt(expected)} feed entries in ${fanoutS.toFixed(2)} s = ${fmt(expected / fanoutS)} entries/s`);

	return {
		figures: {
			feed_home_latest_p50_ms: latest.p50,
			feed_home_latest_p99_ms: latest.p99,
			feed_home_top_p50_ms: top.p50,
			feed_home_top_p99_ms: top.p99,
			feed_fanout_entries_per_s: Math.round(expected / fanoutS),
		},
		authors_followed: AUTHORS,
		celebrities: CELEBRITIES,
		celebrity_followers: CELEBRITY_FOLLOWERS,
		health_p50_ms: health.p50,
		home_latest_p50_ms: latest.p50,
		home_latest_p99_ms: latest.p99,
		home_latest_rps: Math.round(latest.rps),
		home_latest_statuses: latest.statuses,
		home_top_p50_ms: top.p50,
		home_top_p99_ms: top.p99,
		home_top_rps: Math.round(top.rps),
		fanout_followers: FANOUT_FOLLOWERS,
		fanout_posts: FANOUT_POSTS,
		fanout_entries: expected,
		fanout_entries_per_s: Math.round(expected / fanoutS),
	};
}

async function signUp(url, tenantId, prefix, ip) {
	const username = `${prefix}${Date.now().toString(36)}`;
	const res = await fetch(`${url}/api/v1/auth/signup`, {
		method: "POST",
		headers: { "content-type": "application/json", "floodgate-tenant": tenantId, "cf-connecting-ip": ip },
		body: JSON.stringify({ username, email: `${username}@example.com`, password: PASSWORD }),
	});
	if (res.status !== 201) throw new Error(`signup failed: ${res.status} ${await res.text()}`);
	const body = await res.json();
	return { userId: body.user.id, token: body.tokens.access_token };
}

/** 500 authors followed by the reader, their posts, celebrity follower sets and the reader's feed. */
async function seedAuthors(db, tenantId, readerId, now) {
	const statements = [
		db
			.prepare(`INSERT INTO social_profiles (tenant_id, user_id, last_active_at, updated_at) VALUES (?, ?, ?, ?)`)
			.bind(tenantId, readerId, now, now),
	];
	for (let a = 0; a < AUTHORS; a++) {
		const id = `usr_bench${String(a).padStart(19, "0")}`;
		const celebrity = a < CELEBRITIES;
		statements.push(
			db
				.prepare(
					`INSERT INTO account_users (id, tenant_id, username, email, password_hash, created_at, updated_at)
					 VALUES (?, ?, ?, ?, 'seeded', ?, ?)`,
				)
				.bind(id, tenantId, `author${a}`, `author${a}@example.com`, now, now),
			db
				.prepare(
					`INSERT INTO social_profiles (tenant_id, user_id, followers_count, posts_count, last_active_at, updated_at)
					 VALUES (?, ?, ?, ?, ?, ?)`,
				)
				.bind(tenantId, id, celebrity ? CELEBRITY_FOLLOWERS : 1, POSTS_PER_AUTHOR, now, now),
			db
				.prepare(`INSERT INTO social_follows (tenant_id, follower_id, followee_id, created_at) VALUES (?, ?, ?, ?)`)
				.bind(tenantId, readerId, id, now),
		);
		for (let p = 0; p < POSTS_PER_AUTHOR; p++) {
			const postId = `pst_b${String(a).padStart(6, "0")}${String(p).padStart(17, "0")}`;
			// Spread over the last week so the timeline interleaves authors.
			const at = now - Math.floor(Math.random() * 7 * 86_400_000);
			statements.push(
				db
					.prepare(
						`INSERT INTO social_posts (id, tenant_id, author_id, body, like_count, comment_count, created_at, updated_at)
						 VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
					)
					.bind(postId, tenantId, id, `post ${p} of author ${a}`, (a * p) % 50, (a + p) % 7, at, at),
			);
		}
	}
	// The proxy's keep-alive socket may have been closed by the other side during the sign-ups
	// (seconds of Argon2id): the first call after them fails with "other side closed" and drops it.
	await db
		.prepare("SELECT 1")
		.first()
		.catch(() => undefined);
	for (let i = 0; i < statements.length; i += 500) await db.batch(statements.slice(i, i + 500));
	for (let c = 0; c < CELEBRITIES; c++)
		await followers(db, tenantId, `usr_bench${String(c).padStart(19, "0")}`, `cf${c}_`, CELEBRITY_FOLLOWERS - 1, now);
	// The reader's fanned-out feed: the newest FEED_CAP posts of the ordinary authors.
	await db
		.prepare(
			`INSERT INTO social_feed (tenant_id, user_id, post_id, author_id, created_at)
			 SELECT ?1, ?2, p.id, p.author_id, p.created_at FROM social_posts p
			   JOIN social_profiles pr ON pr.tenant_id = p.tenant_id AND pr.user_id = p.author_id
			  WHERE p.tenant_id = ?1 AND pr.followers_count < 10000 AND p.author_id != ?2
			  ORDER BY p.created_at DESC LIMIT ?3`,
		)
		.bind(tenantId, readerId, FEED_CAP)
		.run();
}

/** `count` follow rows of synthetic users `<prefix><n>` to `followee`, in 50,000-row statements. */
async function followers(db, tenantId, followee, prefix, count, now) {
	for (let from = 1; from <= count; from += 50_000) {
		const to = Math.min(count, from + 49_999);
		await db
			.prepare(
				`INSERT INTO social_follows (tenant_id, follower_id, followee_id, created_at)
				 SELECT ?1, ?2 || x, ?3, ?4 FROM (WITH RECURSIVE c(x) AS (SELECT ?5 UNION ALL SELECT x + 1 FROM c WHERE x < ?6) SELECT x FROM c)`,
			)
			.bind(tenantId, prefix, followee, now, from, to)
			.run();
	}
}
