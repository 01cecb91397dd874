import { z } from "zod";

/** Reports' pure rules: types and their params, lanes, id buckets, chunk plans, result TTLs, CSV. */

export type Lane = "short" | "long";
export type ReportStatus = "queued" | "running" | "completed" | "failed";
export type Chunk = { index: number; startMs: number; endMs: number };

export const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

const date = z.iso.date({ message: "a date YYYY-MM-DD" });
const ids = (what: string) =>
	z.array(z.string().min(1).max(128)).min(1).max(100).describe(`Only these ${what} (at most 100); all when absent.`);

/** A date range [from, to] in UTC days, both included, of at most `maxDays` days. */
function withRange<T extends z.ZodType<{ from: string; to: string }>>(schema: T, maxDays: number) {
	return schema
		.refine((r) => r.from <= r.to, { message: "from must not be after to", path: ["to"] })
		.refine((r) => daysBetween(r.from, r.to) < maxDays, { message: `at most ${maxDays} days`, path: ["to"] });
}

export const REPORT_TYPES = {
	truck_distance: {
		lane: "long",
		bucketMs: 15 * MINUTE_MS,
		params: withRange(z.object({ from: date, to: date, truck_ids: ids("trucks").optional() }).strict(), 92),
	},
	vending_sales: {
		lane: "long",
		bucketMs: 15 * MINUTE_MS,
		params: withRange(z.object({ from: date, to: date, machine_ids: ids("machines").optional() }).strict(), 92),
	},
	job_latency: {
		lane: "short",
		bucketMs: 5 * MINUTE_MS,
		params: withRange(z.object({ from: date, to: date, types: ids("job types").optional() }).strict(), 31),
	},
	ratelimit_decisions: {
		lane: "short",
		bucketMs: 5 * MINUTE_MS,
		params: withRange(
			z.object({ from: date, to: date, resources: ids("rate-limit resources").optional() }).strict(),
			31,
		),
	},
} as const;

export type ReportType = keyof typeof REPORT_TYPES;
export const REPORT_TYPE_NAMES = [
	"truck_distance",
	"vending_sales",
	"job_latency",
	"ratelimit_decisions",
] as const satisfies readonly ReportType[];
export type ReportParams = {
	from: string;
	to: string;
	truck_ids?: string[];
	machine_ids?: string[];
	types?: string[];
	resources?: string[];
};

/** Result TTLs: a range that ends before today cannot change any more; one touching today can. */
export const HISTORICAL_TTL_MS = DAY_MS;
export const LIVE_TTL_MS = 5 * MINUTE_MS;
/** How long an unfinished report is kept before the sweep gives up on it. */
export const UNFINISHED_TTL_MS = 2 * DAY_MS;

export function isReportType(type: string): type is ReportType {
	return Object.hasOwn(REPORT_TYPES, type);
}

/** JSON with object keys sorted at every level, so equal params give equal text (and ids). */
export function canonicalJson(value: unknown): string {
	if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
	if (value !== null && typeof value === "object") {
		const entries = Object.entries(value)
			.filter(([, v]) => v !== undefined)
			.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
		return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
	}
	return JSON.stringify(value);
}

/** Lists of ids are sets: sorted and deduplicated so their order does not make a new report. */
export function canonicalParams(params: ReportParams): ReportParams {
	const set = (list?: string[]) => (list ? [...new Set(list)].sort() : undefined);
	return {
		from: params.from,
		to: params.to,
		truck_ids: set(params.truck_ids),
		machine_ids: set(params.machine_ids),
		types: set(params.types),
		resources: set(params.resources),
	};
}

/** The text hashed into a report id: the same caller, type and params within one bucket = one report. */
export function reportIdSeed(
	tenantId: string,
	apiKeyId: string,
	type: ReportType,
	params: string,
	now: number,
): string {
	const bucket = Math.floor(now / REPORT_TYPES[type].bucketMs);
	return [tenantId, apiKeyId, type, params, bucket].join("\n");
}

/** One chunk per UTC day of the range (both ends included). */
export function planChunks(params: ReportParams): Chunk[] {
	const start = Date.parse(`${params.from}T00:00:00Z`);
	const days = daysBetween(params.from, params.to) + 1;
	return Array.from({ length: days }, (_, index) => ({
		index,
		startMs: start + index * DAY_MS,
		endMs: start + (index + 1) * DAY_MS,
	}));
}

/** How long a finished result is served from cache: minutes while the range includes today. */
export function resultTtlMs(params: ReportParams, now: number): number {
	const rangeEnd = Date.parse(`${params.to}T00:00:00Z`) + DAY_MS;
	return rangeEnd > now ? LIVE_TTL_MS : HISTORICAL_TTL_MS;
}

export function progress(chunksDone: number, chunksTotal: number): number {
	return chunksTotal === 0 ? 1 : Math.min(1, chunksDone / chunksTotal);
}

/** RFC 4180 CSV: a header line and one line per row, fields quoted when they need it. */
export function toCsv(columns: readonly string[], rows: readonly (readonly (string | number | null)[])[]): string {
	const field = (v: string | number | null) => {
		const text = v === null ? "" : String(v);
		return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
	};
	return [columns, ...rows].map((row) => row.map(field).join(",")).join("\r\n") + "\r\n";
}

export function encodeListCursor(createdAt: number, id: string): string {
	return `${createdAt}.${id}`;
}

export function decodeListCursor(cursor: string): { createdAt: number; id: string } | null {
	const match = /^(\d{1,16})\.(rep_[0-9a-f]{32})$/.exec(cursor);
	return match?.[1] && match[2] ? { createdAt: Number(match[1]), id: match[2] } : null;
}

function daysBetween(from: string, to: string): number {
	return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}
