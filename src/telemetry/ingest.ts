import type { Context } from "hono";
import type { z, ZodType } from "zod";
import type { AppEnv } from "../platform/app-env";
import { newId } from "../platform/crypto";
import type { TelemetryMessage } from "./domain";
import { readJson } from "../platform/body-limit";
import { AppError } from "../platform/errors";
import { errorText, log } from "../platform/log";
import type { FieldError } from "../platform/validation";
import { fieldErrors } from "../platform/validation";
import { countIngest, estimateBacklog, scheduleFlush } from "./counters";
import { enqueueLanes, tooLargeToEnqueue } from "./producer";
import { enforceLaneLimits } from "./lane-limits";
import type { BacklogReading } from "./stats-db";

/** Seconds a client should wait when the backlog is full: about two consumer batch timeouts. */
const BACKLOG_RETRY_AFTER_SECONDS = 5;

export type EdgeMeta = Pick<TelemetryMessage, "v" | "tenant_id" | "received_at" | "colo" | "country">;

/**
 * Parses an ingest body with `schema`: our 400 shape on failure, with the refused updates counted
 * as received and rejected (`countOf` reads how many the raw body claimed to carry).
 */
export async function parseTelemetry<Schema extends ZodType>(
	c: Context<AppEnv>,
	schema: Schema,
	countOf: (raw: unknown) => number,
	shapeErrors: (fields: FieldError[]) => unknown = (fields) => ({ fields }),
): Promise<z.output<Schema>> {
	let raw: unknown;
	try {
		raw = await readJson(c);
	} catch {
		raw = undefined;
	}
	const result = raw === undefined ? null : schema.safeParse(raw);
	if (result?.success) return result.data;
	const updates = countOf(raw);
	countIngest(c.get("principal").tenantId, { received: updates, rejected: updates });
	flushLater(c);
	if (!result) throw new AppError(400, "malformed_json", "The body is not valid JSON; nothing was accepted.");
	const fields = fieldErrors(result.error.issues);
	throw new AppError(
		400,
		"validation_failed",
		`Invalid telemetry (${fields.length} problem(s)); nothing was accepted.`,
		shapeErrors(fields),
	);
}

/** Where and when the edge received the request; cf is absent locally, so colo/country are null. */
export function edgeMeta(c: Context<AppEnv>): EdgeMeta {
	const cf = c.req.raw.cf;
	return {
		v: 1,
		tenant_id: c.get("principal").tenantId,
		received_at: Date.now(),
		colo: typeof cf?.colo === "string" ? cf.colo.slice(0, 16) : null,
		country: typeof cf?.country === "string" ? cf.country.slice(0, 8) : null,
	};
}

export function messageId(): string {
	return newId("msg");
}

/**
 * Admits `updates` updates into their lanes' queues or throws: 413 payload_too_large when a message
 * is over the queue's 128 KB (checked first: no retry could succeed), 429 rate_limited when a device
 * or the tenant is over its lane's producer limit (lane-limits.ts), 503 backlog_full (nothing
 * enqueued) when the caller's backlog is over TELEMETRY_MAX_TENANT_BACKLOG or the platform's over
 * TELEMETRY_MAX_BACKLOG, 503 queue_unavailable when sending fails. Returns only after every message
 * is in the queue, so a 202 means accepted.
 */
export async function admitTelemetry(
	c: Context<AppEnv>,
	messages: readonly TelemetryMessage[],
	updates: number,
): Promise<void> {
	const tenantId = c.get("principal").tenantId;
	countIngest(tenantId, { received: updates });
	try {
		const tooLarge = tooLargeToEnqueue(messages);
		if (tooLarge) {
			countIngest(tenantId, { rejected: updates });
			throw tooLarge;
		}
		await enforceLaneLimits(c, messages);
		const backlog = await estimateBacklog(c.env.DB, tenantId, Number(c.env.TELEMETRY_BACKLOG_CACHE_MS), (p) =>
			c.executionCtx.waitUntil(p),
		);
		const full = backlogFull(backlog, {
			tenant: Number(c.env.TELEMETRY_MAX_TENANT_BACKLOG),
			platform: Number(c.env.TELEMETRY_MAX_BACKLOG),
		});
		if (full) {
			countIngest(tenantId, { rejected: updates });
			throw full;
		}
		let sent = 0;
		try {
			await enqueueLanes(
				c.env,
				messages,
				(n, lane) => {
					sent += n;
					countIngest(tenantId, { enqueued: n, backfillEnqueued: lane === "backfill" ? n : 0 });
				},
				{ windowMs: Number(c.env.TELEMETRY_GROUP_COMMIT_MS), waitUntil: (p) => c.executionCtx.waitUntil(p) },
			);
		} catch (err) {
			countIngest(tenantId, { rejected: updates - sent });
			log.error("telemetry enqueue failed", { request_id: c.get("requestId"), error: errorText(err) });
			throw new AppError(
				503,
				"queue_unavailable",
				"The telemetry queue did not accept the data; retry (resends are deduplicated).",
				undefined,
				{ "Retry-After": "1" },
			);
		}
	} finally {
		flushLater(c);
	}
}

/**
 * The 503 when either bound is passed, or null. It shows only the caller's own figures: which
 * bound (`limit`: "tenant" or "platform"), its own backlog and its own bound — never the platform's
 * backlog or another tenant's.
 */
function backlogFull(backlog: BacklogReading, bounds: { tenant: number; platform: number }): AppError | null {
	const limit = backlog.tenant > bounds.tenant ? "tenant" : backlog.platform > bounds.platform ? "platform" : null;
	if (limit === null) return null;
	const message =
		limit === "tenant"
			? `Your telemetry is backlogged (${backlog.tenant} updates waiting, your bound ${bounds.tenant}); nothing was accepted, retry later.`
			: `The platform's telemetry queue is backlogged (your own backlog: ${backlog.tenant} of ${bounds.tenant}); nothing was accepted, retry later.`;
	return new AppError(
		503,
		"backlog_full",
		message,
		{ limit, backlog: backlog.tenant, bound: bounds.tenant, retry_after: BACKLOG_RETRY_AFTER_SECONDS },
		{ "Retry-After": String(BACKLOG_RETRY_AFTER_SECONDS) },
	);
}

function flushLater(c: Context<AppEnv>): void {
	scheduleFlush(c.env.DB, (p) => c.executionCtx.waitUntil(p), Number(c.env.TELEMETRY_STATS_FLUSH_SECONDS) * 1000);
}
