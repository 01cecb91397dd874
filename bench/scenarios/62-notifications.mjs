// Notifications: N in-app notifications (100,000 by default) to U users (10,000), through the real
// path (POST /api/v1/notifications → the notifications queue → one attempt per delivery → the
// user's NotificationInbox object). Figures: notifications/s into inboxes (from the first send to
// the last delivery), the p50/p99 from send to inbox (the notification's created_at to its
// in-app delivery's `delivered` write, both on the platform's clock), and lost / duplicated
// counted from the inboxes themselves (every user's inbox read through the API). Knobs:
// BENCH_NOTIFY_TOTAL, BENCH_NOTIFY_USERS, BENCH_NOTIFY_CLIENTS (concurrent senders, 32),
// BENCH_SECONDS (how long to wait for the deliveries after the last send, 300).
import { unlimitedTenant } from "../lib/unlimited-tenant.mjs";

export const title = "Notifications: N in-app notifications to U users (throughput, p99 send to inbox)";
// The per-user hourly limit would measure the limiter's delays; it is still asked on every delivery.
export const vars = { NOTIFICATIONS_RATE_LIMIT_PER_HOUR: "1000000" };

const TEMPLATE = { category: "bench", channels: { in_app: { title: "Bench {{n}}", body: "Notification {{n}}" } } };

export async function run({ url, admin, platform, log }) {
	const total = Number(process.env.BENCH_NOTIFY_TOTAL ?? 100_000);
	const users = Number(process.env.BENCH_NOTIFY_USERS ?? 10_000);
	const clients = Number(process.env.BENCH_NOTIFY_CLIENTS ?? 32);
	const maxWaitSeconds = Number(process.env.BENCH_SECONDS ?? 300);
	const { tenantId, headers } = await unlimitedTenant(admin, "bench-notifications");
	const put = await fetch(`${url}/api/v1/notifications/templates/bench`, {
		method: "PUT",
		headers,
		body: JSON.stringify(TEMPLATE),
	});
	if (put.status !== 200) throw new Error(`template: ${put.status} ${await put.text()}`);

	// Sending: notification n goes to user n % users; the ids the platform answered are what must arrive.
	const sent = new Map();
	let next = 0;
	let refused = 0;
	const started = Date.now();
	async function sender() {
		while (next < total) {
			const n = next++;
			const body = JSON.stringify({
				recipient: { user_id: `u${n % users}` },
				template: "bench",
				data: { n },
				channels: ["in_app"],
			});
			const res = await retrying(() => fetch(`${url}/api/v1/notifications`, { method: "POST", headers, body }));
			if (res.status !== 202) {
				refused++;
				await res.arrayBuffer();
				continue;
			}
			sent.set((await res.json()).notification_id, `u${n % users}`);
		}
	}
	await Promise.all(Array.from({ length: clients }, sender));
	const sendSeconds = (Date.now() - started) / 1000;
	log(
		`sent ${sent.size} of ${total} in ${sendSeconds.toFixed(1)} s (${Math.round(sent.size / sendSeconds)}/s), ${refused} refused`,
	);

	// Waiting: until every in-app delivery is delivered (or failed), or the time is up.
	const db = await platform.mf.getD1Database("DB");
	const deadline = Date.now() + maxWaitSeconds * 1000;
	let open = sent.size;
	while (open > 0 && Date.now() < deadline) {
		await new Promise((r) => setTimeout(r, 1_000));
		const row = await db
			.prepare(
				"SELECT COUNT(*) AS n FROM notification_deliveries WHERE tenant_id = ? AND status NOT IN ('delivered', 'failed')",
			)
			.bind(tenantId)
			.first();
		open = Number(row?.n ?? 0);
	}
	const { results: timings } = await db
		.prepare(
			`SELECT n.created_at AS sent_at, d.updated_at AS delivered_at FROM notification_deliveries d
			 JOIN notifications n ON n.id = d.notification_id WHERE d.tenant_id = ? AND d.status = 'delivered'`,
		)
		.bind(tenantId)
		.all();
	const latencies = timings.map((t) => t.delivered_at - t.sent_at).sort((a, b) => a - b);
	const firstSent = Math.min(...timings.map((t) => t.sent_at));
	const lastDelivered = Math.max(...timings.map((t) => t.delivered_at));

	// Counting from the inboxes: every user's items, paged through the API.
	const inboxCounts = await readInboxes(url, headers, users, clients);
	let duplicated = 0;
	let lost = 0;
	let strays = 0;
	const seen = new Map();
	for (const [user, ids] of inboxCounts) {
		for (const id of ids) {
			seen.set(id, (seen.get(id) ?? 0) + 1);
			if (sent.get(id) !== user) strays++;
		}
	}
	for (const count of seen.values()) duplicated += Math.max(0, count - 1);
	for (const id of sent.keys()) if (!seen.has(id)) lost++;
	const perSecond = timings.length > 0 ? timings.length / ((lastDelivered - firstSent) / 1000) : 0;
	const figures = {
		notifications_total: total,
		notifications_users: users,
		notifications_accepted: sent.size,
		notifications_send_per_s: Math.round(sent.size / sendSeconds),
		notifications_in_inboxes: seen.size,
		notifications_lost: lost,
		notifications_duplicated: duplicated,
		notifications_misrouted: strays,
		notifications_per_s: Math.round(perSecond),
		notifications_p50_ms: pct(latencies, 50),
		notifications_p99_ms: pct(latencies, 99),
	};
	log(JSON.stringify(figures, null, 2));
	return {
		figures,
		send_seconds: Number(sendSeconds.toFixed(1)),
		refused,
		still_open: open,
		note: `in-app only; ${clients} concurrent senders; latency = created_at to the delivery's 'delivered' write (platform clock); local Queues deliver one batch at a time`,
	};
}

/** Every user's inbox ids (up to 1,000 each: an inbox keeps its newest 1,000), read concurrently. */
async function readInboxes(url, headers, users, clients) {
	const out = new Map();
	let next = 0;
	async function reader() {
		while (next < users) {
			const user = `u${next++}`;
			const ids = [];
			let cursor = null;
			do {
				const query = `limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
				const res = await retrying(() =>
					fetch(`${url}/api/v1/notifications/users/${user}/inbox?${query}`, { headers }),
				);
				if (res.status !== 200) throw new Error(`inbox ${user}: ${res.status} ${await res.text()}`);
				const page = await res.json();
				ids.push(...page.items.map((i) => i.id));
				cursor = page.next_cursor;
			} while (cursor);
			out.set(user, ids);
		}
	}
	await Promise.all(Array.from({ length: clients }, reader));
	return out;
}

/** Retries a request answered 429 or 503, after its Retry-After. */
async function retrying(send) {
	for (let i = 0; ; i++) {
		const res = await send();
		if ((res.status !== 429 && res.status !== 503) || i >= 20) return res;
		await res.arrayBuffer();
		await new Promise((r) => setTimeout(r, Number(res.headers.get("retry-after") ?? 1) * 1000));
	}
}

function pct(sorted, p) {
	return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? null;
}
