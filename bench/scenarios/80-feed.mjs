// News feed (issue 17 §3): home timeline p50/p99 for a reader following BENCH_FEED_AUTHORS authors
// (default 500), 5 of them celebrities (merged on read) with BENCH_FEED_CELEBRITY_FOLLOWERS followers
// each (default 100,000), latest and ranked (top), against GET /api/v1/health; and fan-out
// throughput: feed entries written per second by the floodgate-feed consumer for posts of an author
// with BENCH_FEED_FANOUT_FOLLOWERS active followers (default 9,000, under the celebrity threshold).
// Authors, followers, posts and the reader's fanned-out feed are seeded straight into local D1 the
// way the product's follow() leaves them (follow row, both profiles, both counters); the reader
// and the fan-out author are real accounts with access tokens. Synthetic user ids are built in SQL
// from integers: a number bound through Miniflare's D1 proxy arrives as REAL, and `'ff_' || 1.0`
// is 'ff_1.0', so every bound counter is CAST to INTEGER first (the earlier follow rows named
// 'ff_1.0' never joined their profiles 'ff_1', fan-out found no active follower and wrote nothing).
import { drive, fmt } from "../lib/load.mjs";

export const title = "News feed: home timeline p50/p99 (500 followed, 5 celebrities), fan-out entries/s";

const AUTHORS = Number(process.env.BENCH_FEED_AUTHORS ?? 500);
const CELEBRITIES = 5;
const POSTS_PER_AUTHOR = Number(process.env.BENCH_FEED_POSTS_PER_AUTHOR ?? 10);
const CELEBRITY_FOLLOWERS = Number(process.env.BENCH_FEED_CELEBRITY_FOLLOWERS ?? 100_000);
const FANOUT_FOLLOWERS = Number(process.env.BENCH_FEED_FANOUT_FOLLOWERS ?? 9_000);
const FANOUT_POSTS = Number(process.env.BENCH_FEED_FANOUT_POSTS ?? 10);
const FEED_CAP = 800;
/** The fan-out part gives up after this long, or after STALL_S without a new entry. */
const FANOUT_TIMEOUT_S = Number(process.env.BENCH_FEED_FANOUT_TIMEOUT_S ?? 300);
const STALL_S = 30;
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

	const fanout = await measureFanout(url, db, tenantId, writer, reader, now);
	log(
		`fan-out: ${fmt(fanout.entries)} feed entries (${FANOUT_POSTS} posts x ${fmt(FANOUT_FOLLOWERS)} followers) in ${fanout.seconds.toFixed(2)} s = ${fmt(fanout.perSecond)} entries/s (posting took ${fanout.postingS.toFixed(2)} s)`,
	);

	return {
		figures: {
			feed_home_latest_p50_ms: latest.p50,
			feed_home_latest_p99_ms: latest.p99,
			feed_home_top_p50_ms: top.p50,
			feed_home_top_p99_ms: top.p99,
			feed_fanout_entries_per_s: fanout.perSecond,
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
		fanout_entries: fanout.entries,
		fanout_seconds: Number(fanout.seconds.toFixed(2)),
		fanout_entries_per_s: fanout.perSecond,
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
			.prepare(
				`INSERT INTO social_profiles (tenant_id, user_id, following_count, last_active_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
			)
			.bind(tenantId, readerId, AUTHORS, now, now),
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

/**
 * Fan-out throughput: FANOUT_FOLLOWERS active followers of the writer, then FANOUT_POSTS posts
 * through the API; the clock runs from the first post to the last feed entry. Checks first that
 * the product sees those followers (profile counter and active followers), and stops early when
 * no entry lands for STALL_S, naming the feed dead letters, instead of waiting out the timeout.
 */
async function measureFanout(url, db, tenantId, writer, reader, now) {
	await followers(db, tenantId, writer.userId, "ff_", FANOUT_FOLLOWERS, now);
	const profile = await fetch(`${url}/api/v1/users/${writer.userId}`, {
		headers: { authorization: `Bearer ${reader.token}` },
	});
	const { followers_count: counted } = await profile.json();
	const active = await db
		.prepare(
			`SELECT COUNT(*) AS n FROM social_follows f JOIN social_profiles p ON p.tenant_id = f.tenant_id AND p.user_id = f.follower_id
			  WHERE f.tenant_id = ? AND f.followee_id = ? AND p.last_active_at >= ?`,
		)
		.bind(tenantId, writer.userId, now - 86_400_000)
		.first();
	if (counted !== FANOUT_FOLLOWERS || active.n !== FANOUT_FOLLOWERS)
		throw new Error(
			`seeding: writer has followers_count ${counted}, ${active.n} active followers, expected ${FANOUT_FOLLOWERS}`,
		);

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
	const postingS = (Date.now() - started) / 1000;
	const entries = FANOUT_FOLLOWERS * FANOUT_POSTS;
	let written = 0;
	let progressAt = Date.now();
	while (written < entries) {
		const waited = (Date.now() - started) / 1000;
		const stalled = (Date.now() - progressAt) / 1000 > STALL_S;
		if (waited > FANOUT_TIMEOUT_S || stalled) {
			const dead = await db
				.prepare(`SELECT COUNT(*) AS n FROM dead_letters WHERE queue = 'floodgate-feed' AND tenant_id = ?`)
				.bind(tenantId)
				.first();
			throw new Error(
				`fan-out incomplete after ${waited.toFixed(0)} s${stalled ? ` (no progress for ${STALL_S} s)` : ""}: ${written} of ${entries} entries, ${dead.n} feed dead letters`,
			);
		}
		await new Promise((r) => setTimeout(r, 250));
		const row = await db
			.prepare(
				`SELECT COUNT(*) AS n FROM social_feed WHERE tenant_id = ? AND post_id IN (SELECT value FROM json_each(?))`,
			)
			.bind(tenantId, JSON.stringify(postIds))
			.first();
		if (row.n > written) progressAt = Date.now();
		written = row.n;
	}
	const seconds = (Date.now() - started) / 1000;
	return { entries, seconds, postingS, perSecond: Math.round(entries / seconds) };
}

/**
 * `count` synthetic users `<prefix><n>` (n from 1) following `followee`, as follow() leaves them:
 * a profile each (active now, following_count 1), the follow row, and the followee's profile with
 * followers_count recounted from the follow rows. 50,000 users per statement; `n` is CAST to
 * INTEGER because the D1 proxy binds numbers as REAL (see the top of this file).
 */
async function followers(db, tenantId, followee, prefix, count, now) {
	const users = `(WITH RECURSIVE c(x) AS (SELECT CAST(?4 AS INTEGER) UNION ALL SELECT x + 1 FROM c WHERE x < CAST(?5 AS INTEGER)) SELECT ?2 || x AS id FROM c)`;
	for (let from = 1; from <= count; from += 50_000) {
		const to = Math.min(count, from + 49_999);
		await db.batch([
			db
				.prepare(
					`INSERT INTO social_profiles (tenant_id, user_id, following_count, last_active_at, updated_at)
					 SELECT ?1, id, 1, ?3, ?3 FROM ${users} WHERE true
					 ON CONFLICT DO UPDATE SET following_count = following_count + 1`,
				)
				.bind(tenantId, prefix, now, from, to),
			db
				.prepare(
					`INSERT INTO social_follows (tenant_id, follower_id, followee_id, created_at)
					 SELECT ?1, id, ?6, ?3 FROM ${users}`,
				)
				.bind(tenantId, prefix, now, from, to, followee),
		]);
	}
	await db.batch([
		db
			.prepare(
				`INSERT INTO social_profiles (tenant_id, user_id, last_active_at, updated_at) VALUES (?1, ?2, ?3, ?3) ON CONFLICT DO NOTHING`,
			)
			.bind(tenantId, followee, now),
		db
			.prepare(
				`UPDATE social_profiles SET followers_count = (SELECT COUNT(*) FROM social_follows WHERE tenant_id = ?1 AND followee_id = ?2)
				  WHERE tenant_id = ?1 AND user_id = ?2`,
			)
			.bind(tenantId, followee),
	]);
}
