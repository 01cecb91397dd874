import type { TenantPrincipal } from "../platform/app-env";
import { sha256Hex } from "../platform/crypto";
import { AppError } from "../platform/errors";
import { log } from "../platform/log";
import type { ReportRow } from "./db";
import { findActiveReport, findCachedReport, findReport, insertReport, listReports } from "./db";
import type { ReportParams, ReportType } from "./domain";
import { publishEvent } from "../webhooks/service";
import {
	canonicalJson,
	canonicalParams,
	planChunks,
	progress,
	REPORT_TYPES,
	reportIdSeed,
	UNFINISHED_TTL_MS,
} from "./domain";

/** Opening reports (derived ids, cache), their queue messages, their JSON and their stored results. */

export type ReportMessage = { report_id: string; step: number };
export type ResultFormat = "json" | "csv";
export type Opened = { report: ReportRow; created: boolean; cached: boolean };

const CONTENT_TYPES: Record<ResultFormat, string> = { json: "application/json", csv: "text/csv; charset=utf-8" };

/**
 * The report for this caller, type and params in the current bucket: the existing one (a refresh,
 * a double click), else a fresh cached result of the same type and params for the tenant, else the
 * caller's still-running one from an earlier bucket, else a new report whose chunks are written
 * before it is acknowledged (created: true → enqueue it).
 */
export async function openReport(
	env: Env,
	principal: TenantPrincipal,
	type: ReportType,
	input: ReportParams,
	now: number,
): Promise<Opened> {
	const params = canonicalJson(canonicalParams(input));
	const id = `rep_${(await sha256Hex(reportIdSeed(principal.tenantId, principal.apiKeyId, type, params, now))).slice(0, 32)}`;
	const existing = await findReport(env.DB, principal.tenantId, id);
	if (existing) return { report: existing, created: false, cached: false };
	const cacheKey = await sha256Hex([principal.tenantId, type, params].join("\n"));
	const cached = await findCachedReport(env.DB, principal.tenantId, cacheKey, now);
	if (cached) return { report: cached, created: false, cached: true };
	const active = await findActiveReport(env.DB, principal.tenantId, principal.apiKeyId, cacheKey, now);
	if (active) return { report: active, created: false, cached: false };
	const chunks = planChunks(input);
	const row = {
		id,
		tenant_id: principal.tenantId,
		api_key_id: principal.apiKeyId,
		type,
		params,
		cache_key: cacheKey,
		lane: REPORT_TYPES[type].lane,
		status: "queued" as const,
		chunks_total: chunks.length,
		created_at: now,
		expires_at: now + UNFINISHED_TTL_MS,
	};
	const created = await insertReport(env.DB, row, chunks);
	const report = await findReport(env.DB, principal.tenantId, id);
	if (!report) throw new Error(`report ${id} vanished after insert`);
	return { report, created, cached: false };
}

/** The message that runs a report's next step, on its lane's queue. */
export async function enqueueStep(env: Env, report: Pick<ReportRow, "id" | "lane">, step: number): Promise<void> {
	const message: ReportMessage = { report_id: report.id, step };
	await (report.lane === "long" ? env.REPORTS_LONG_QUEUE : env.REPORTS_SHORT_QUEUE).send(message);
}

/**
 * Called once per report when it completes or fails for good: publishes `report.ready` or
 * `report.failed` to the tenant's webhooks; it must not throw (publishEvent never does).
 */
export async function onReportFinished(env: Env, report: ReportRow): Promise<void> {
	await publishEvent(env, report.tenant_id, report.status === "completed" ? "report.ready" : "report.failed", {
		report_id: report.id,
		type: report.type,
		status: report.status,
		error: report.error,
	});
	log.info("report finished", {
		report_id: report.id,
		tenant_id: report.tenant_id,
		type: report.type,
		status: report.status,
	});
}

export async function requireReport(env: Env, tenantId: string, id: string, now: number): Promise<ReportRow> {
	const report = await findReport(env.DB, tenantId, id);
	if (!report || report.expires_at <= now) throw new AppError(404, "not_found", `No report ${id}.`);
	return report;
}

export function resultKey(report: Pick<ReportRow, "tenant_id" | "id">, format: ResultFormat): string {
	return `${report.tenant_id}/${report.id}.${format}`;
}

/** The stored result, streamed from R2; 409 while the report is not completed. */
export async function resultResponse(env: Env, report: ReportRow, format: ResultFormat): Promise<Response> {
	if (report.status === "failed") {
		throw new AppError(409, "report_failed", `Report ${report.id} failed: ${report.error ?? "unknown error"}.`);
	}
	if (report.status !== "completed") {
		throw new AppError(
			409,
			"report_not_ready",
			`Report ${report.id} is ${report.status}; poll GET /api/v1/reports/${report.id}.`,
			{
				status: report.status,
				progress: progress(report.chunks_done, report.chunks_total),
			},
		);
	}
	const object = await env.REPORTS.get(resultKey(report, format));
	if (!object) throw new AppError(404, "not_found", `The result of report ${report.id} has expired.`);
	return new Response(object.body, {
		headers: {
			"Content-Type": CONTENT_TYPES[format],
			"Content-Length": String(object.size),
			"Cache-Control": `private, max-age=${Math.max(0, Math.floor((report.expires_at - Date.now()) / 1000))}`,
			ETag: object.httpEtag,
		},
	});
}

/** The tenant's newest `limit` reports as JSON (the dashboard's panel). */
export async function recentReports(env: Pick<Env, "DB">, tenantId: string, limit: number) {
	return (await listReports(env.DB, tenantId, null, limit)).map(reportJson);
}

export function reportJson(report: ReportRow) {
	const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
	const base = `/api/v1/reports/${report.id}/result`;
	return {
		report_id: report.id,
		type: report.type,
		params: JSON.parse(report.params) as unknown,
		status: report.status,
		progress: progress(report.chunks_done, report.chunks_total),
		chunks_done: report.chunks_done,
		chunks_total: report.chunks_total,
		error: report.error,
		created_at: iso(report.created_at),
		started_at: iso(report.started_at),
		finished_at: iso(report.finished_at),
		expires_at: iso(report.expires_at),
		result:
			report.status === "completed"
				? {
						rows: report.result_rows,
						bytes: report.result_bytes,
						json: `${base}?format=json`,
						csv: `${base}?format=csv`,
					}
				: null,
	};
}
