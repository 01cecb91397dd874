// Email campaign to the sandbox provider: N recipients (default 100,000) imported 10,000 per call,
// one campaign sent through the real floodgate-email queue with the tenant's sending rate and the
// sandbox's limit both set to LIMIT/s (default 1,000), sent over CHAINS parallel send chains
// (BENCH_EMAIL_CHAINS, default 4: EMAIL_SEND_CHAINS). Figures, counted from the sandbox's own
// record (D1): recipients/s from started_at to finished_at against the limit (campaign_limit_ratio,
// goal >= 0.9), campaign_duplicates (messages beyond one per recipient), campaign_skipped
// (recipients never recorded), and the workerd process's RSS sampled during the send (flat = good).
import { readdirSync, readFileSync } from "node:fs";

export const title = "Campaigns: N recipients to the sandbox provider at a configured limit";

const LIMIT = Number(process.env.BENCH_EMAIL_LIMIT ?? 1_000);
const CHAINS = Number(process.env.BENCH_EMAIL_CHAINS ?? 4);

export const vars = {
	ENVIRONMENT: "development",
	EMAIL_PROVIDER_URL: "sandbox",
	EMAIL_SANDBOX_ENABLED: "true",
	EMAIL_SEND_RATE_PER_SECOND: String(LIMIT),
	EMAIL_SANDBOX_RATE_PER_SECOND: String(LIMIT),
	EMAIL_SEND_CHAINS: String(CHAINS),
	EMAIL_UNSUBSCRIBE_SECRET: "bench-unsubscribe-secret",
	EMAIL_WEBHOOK_SECRET: "whsec_YmVuY2gtZW1haWwtd2ViaG9vay1zZWNyZXQtMzJieXQ=",
	EMAIL_PUBLIC_URL: "http://127.0.0.1:8790",
};

export async function run({ url, admin, platform, log }) {
	const total = Number(process.env.BENCH_RECIPIENTS ?? 100_000);
	const maxSeconds = Number(process.env.BENCH_SECONDS ?? Math.ceil((total / LIMIT) * 3) + 60);
	const tenant = await (await admin("POST", "/tenants", { name: "bench-campaigns" })).json();
	const headers = { authorization: `Bearer ${tenant.api_key}`, "content-type": "application/json" };
	const api = async (method, path, body) => {
		const res = await fetch(`${url}${path}`, {
			method,
			headers,
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		const text = await res.text();
		if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
		return JSON.parse(text);
	};

	const list = await api("POST", "/api/v1/lists", { name: "bench" });
	const importStarted = Date.now();
	for (let from = 0; from < total; from += 10_000) {
		const n = Math.min(10_000, total - from);
		const subscribers = Array.from({ length: n }, (_, i) => ({
			email: `user${from + i}@bench.example`,
			first_name: `U${from + i}`,
		}));
		await api("POST", `/api/v1/lists/${list.list_id}/subscribers:import`, { subscribers });
	}
	const importMs = Date.now() - importStarted;
	log(`imported ${total} subscribers in ${importMs} ms`);

	const campaign = await api("POST", "/api/v1/campaigns", {
		name: "bench",
		list_id: list.list_id,
		from: "Bench <bench@example.com>",
		subject: "Hello {{first_name}}",
		text: "Hi {{first_name}}. Unsubscribe: {{unsubscribe_url}}",
	});
	await api("POST", `/api/v1/campaigns/${campaign.campaign_id}/send`);
	const rss = [];
	let state = campaign;
	const deadline = Date.now() + maxSeconds * 1000;
	while (Date.now() < deadline) {
		state = await api("GET", `/api/v1/campaigns/${campaign.campaign_id}`);
		rss.push(workerdRssMb());
		if (state.status !== "sending") break;
		await new Promise((r) => setTimeout(r, 1000));
	}
	const db = await platform.mf.getD1Database("DB");
	const counted = await db
		.prepare(
			"SELECT COUNT(*) AS n, COUNT(DISTINCT recipient) AS distinct_recipients FROM email_sandbox_messages WHERE tenant_id = ? AND campaign_id = ?",
		)
		.bind(tenant.tenant_id, campaign.campaign_id)
		.first();
	const seconds = ((state.finished_at ?? Date.now()) - state.started_at) / 1000;
	const perSecond = counted.distinct_recipients / seconds;
	const samples = rss.filter((v) => v !== null);
	const figures = {
		recipients: total,
		status: state.status,
		limit_per_s: LIMIT,
		send_chains: CHAINS,
		import_rows_per_s: Math.round((total / importMs) * 1000),
		send_seconds: Number(seconds.toFixed(1)),
		recipients_per_s: Math.round(perSecond),
		campaign_limit_ratio: Number((perSecond / LIMIT).toFixed(3)),
		campaign_duplicates: counted.n - counted.distinct_recipients,
		campaign_skipped: total - counted.distinct_recipients,
		workerd_rss_mb_first: samples[0] ?? null,
		workerd_rss_mb_peak: samples.length ? Math.max(...samples) : null,
		workerd_rss_mb_last: samples.at(-1) ?? null,
		note: "duplicates and skipped are counted from the sandbox's record; the limiter and the sandbox each hold a 1 s burst",
	};
	log(JSON.stringify(figures, null, 2));
	// The headline figures (bench/results/latest.json "figures"); the rest are the run's details.
	return {
		...figures,
		figures: {
			campaign_limit_ratio: figures.campaign_limit_ratio,
			campaign_recipients_per_s: figures.recipients_per_s,
			campaign_duplicates: figures.campaign_duplicates,
			campaign_skipped: figures.campaign_skipped,
			campaign_workerd_rss_mb_peak: figures.workerd_rss_mb_peak,
		},
	};
}

/** Resident memory of this process's workerd children, in MB (Linux /proc), or null elsewhere. */
function workerdRssMb() {
	try {
		let kb = 0;
		for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
			let stat;
			try {
				stat = readFileSync(`/proc/${pid}/status`, "utf8");
			} catch {
				continue;
			}
			const ppid = /PPid:\s+(\d+)/.exec(stat)?.[1];
			if (!/Name:\s+workerd/.test(stat) || Number(ppid) !== process.pid) continue;
			kb += Number(/VmRSS:\s+(\d+)/.exec(stat)?.[1] ?? 0);
		}
		return kb > 0 ? Math.round(kb / 1024) : null;
	} catch {
		return null;
	}
}
