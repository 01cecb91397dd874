import type { StatsRow } from "../telemetry/stats-db";
import type { IsolateCounters } from "./middleware";
import type { NamedCacheFigures } from "../platform/ttl-cache";

/** Prometheus text format 0.0.4 for the platform's own figures. Pure: figures in, text out. */

export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type PlatformFigures = {
	isolate: IsolateCounters;
	telemetry: StatsRow;
	jobs: readonly { status: string; n: number }[];
	metricSeries: number;
	/** The isolate's named hot-read caches (API keys, device tokens, rules, routes…). */
	caches: readonly NamedCacheFigures[];
	/** Queue group commit in this isolate (src/platform/send-coalescer.ts). */
	groupCommit: { messages: number; packed: number; batches: number };
	idempotencyShardBatch: { calls: number; rpcs: number };
	/** Account security notices this isolate could not enqueue (the account change went through). */
	accountNoticeFailures: number;
};

type Family = {
	name: string;
	help: string;
	type: "counter" | "gauge";
	samples: { labels: Record<string, string>; value: number }[];
};

export function renderExposition(f: PlatformFigures): string {
	const instance = { instance: f.isolate.instance };
	const t = f.telemetry;
	const families: Family[] = [
		{
			name: "floodgate_http_requests_total",
			help: "HTTP responses served by this isolate, by matched route, method and status (429: gateway limiter denials).",
			type: "counter",
			samples: [...f.isolate.requests.values()].map((r) => ({
				labels: { ...instance, route: r.route, method: r.method, status: r.status },
				value: r.count,
			})),
		},
		gauge("floodgate_isolate_start_time_seconds", "When this isolate started counting, in seconds since the epoch.", [
			{ labels: instance, value: f.isolate.startedAt / 1000 },
		]),
		counter("floodgate_metrics_samples_ingested_total", "Metric samples this isolate accepted and enqueued.", [
			{ labels: instance, value: f.isolate.samplesIngested },
		]),
		counter(
			"floodgate_account_notice_failures_total",
			"Account security notices this isolate could not store or enqueue.",
			[{ labels: instance, value: f.accountNoticeFailures }],
		),
		gauge("floodgate_metrics_series", "Distinct metric series stored, over all tenants.", [
			{ labels: {}, value: f.metricSeries },
		]),
		counter("floodgate_telemetry_received_total", "Telemetry updates received, over all tenants.", [
			{ labels: {}, value: t.received },
		]),
		counter("floodgate_telemetry_enqueued_total", "Telemetry updates enqueued.", [{ labels: {}, value: t.enqueued }]),
		counter("floodgate_telemetry_rejected_total", "Telemetry updates rejected at ingest.", [
			{ labels: {}, value: t.rejected },
		]),
		counter("floodgate_telemetry_processed_total", "Telemetry updates written by the consumer.", [
			{ labels: {}, value: t.processed },
		]),
		gauge(
			"floodgate_telemetry_backlog",
			"Telemetry updates enqueued but neither written nor dead-lettered (an estimate).",
			[{ labels: {}, value: Math.max(0, t.enqueued - t.processed - t.dead_letters) }],
		),
		gauge("floodgate_telemetry_dead_letters", "Telemetry updates in unreplayed dead letters.", [
			{ labels: {}, value: t.dead_letters },
		]),
		counter(
			"floodgate_isolate_cache_lookups_total",
			"Lookups in this isolate's caches of hot reads (API keys, device tokens, rules, routes…), by cache and result.",
			f.caches.flatMap((c) => [
				{ labels: { ...instance, cache: c.name, result: "hit" }, value: c.hits },
				{ labels: { ...instance, cache: c.name, result: "miss" }, value: c.misses },
			]),
		),
		gauge(
			"floodgate_isolate_cache_entries",
			"Entries held now in this isolate's caches of hot reads (expired ones until read).",
			f.caches.map((c) => ({ labels: { ...instance, cache: c.name }, value: c.entries })),
		),
		counter(
			"floodgate_queue_group_commit_messages_total",
			"Messages producers of this isolate handed to group commit (telemetry ingest).",
			[{ labels: instance, value: f.groupCommit.messages }],
		),
		counter(
			"floodgate_queue_group_commit_packed_messages_total",
			"Queue messages that carried them after packing: messages / packed is the mean packing factor.",
			[{ labels: instance, value: f.groupCommit.packed }],
		),
		counter(
			"floodgate_queue_group_commit_batches_total",
			"sendBatch calls that carried those: packed / batches is the mean group size.",
			[{ labels: instance, value: f.groupCommit.batches }],
		),
		counter(
			"floodgate_idempotency_shard_calls_total",
			"Idempotency-Key begin/complete/release calls this isolate made to home shards (coalesced).",
			[{ labels: instance, value: f.idempotencyShardBatch.calls }],
		),
		counter(
			"floodgate_idempotency_shard_rpcs_total",
			"Shard RPCs that carried them: calls / rpcs is the mean batch size.",
			[{ labels: instance, value: f.idempotencyShardBatch.rpcs }],
		),
		gauge(
			"floodgate_jobs",
			"Jobs by status.",
			f.jobs.map((j) => ({ labels: { status: j.status }, value: j.n })),
		),
	];
	return families.map(renderFamily).join("");
}

function counter(name: string, help: string, samples: Family["samples"]): Family {
	return { name, help, type: "counter", samples };
}

function gauge(name: string, help: string, samples: Family["samples"]): Family {
	return { name, help, type: "gauge", samples };
}

function renderFamily(f: Family): string {
	const lines = [`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`];
	for (const s of f.samples) {
		const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
		lines.push(`${f.name}${labels.length > 0 ? `{${labels.join(",")}}` : ""} ${formatValue(s.value)}`);
	}
	return `${lines.join("\n")}\n`;
}

function escapeHelp(text: string): string {
	return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function escapeLabel(text: string): string {
	return text.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}

function formatValue(v: number): string {
	if (Number.isNaN(v)) return "NaN";
	if (v === Infinity) return "+Inf";
	if (v === -Infinity) return "-Inf";
	return String(v);
}
