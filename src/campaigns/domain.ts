/** Campaigns' pure logic: import rows, CSV, statuses, backoff, progress and ETA, ledger keys. */

export const SUBSCRIBER_STATUSES = ["subscribed", "unsubscribed", "bounced", "complained"] as const;
export type SubscriberStatus = (typeof SUBSCRIBER_STATUSES)[number];
export const CAMPAIGN_STATUSES = ["draft", "sending", "paused", "sent", "cancelled", "failed"] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export const CAMPAIGN_LIMITS = {
	maxImportRows: 10_000,
	pageSize: 100,
	maxPageSize: 500,
	/** Ledger rows the fan-out adds at a time (one statement, no bound parameters per row). */
	fillChunk: 500,
};

/** At most this many parallel send chains per campaign (EMAIL_SEND_CHAINS is clamped to 1..16). */
export const MAX_SEND_CHAINS = 16;

/** The configured number of send chains, clamped to 1..MAX_SEND_CHAINS (1 when not a number). */
export function sendChains(setting: string | undefined): number {
	const n = Math.floor(Number(setting));
	return Number.isFinite(n) ? Math.min(MAX_SEND_CHAINS, Math.max(1, n)) : 1;
}

export type ImportRow = { email: string; first_name: string; last_name: string };
export type RowError = { row: number; email: string | null; message: string };

// Pragmatic address check (what providers accept): one @, a dotted domain, no spaces or brackets.
const EMAIL =
	/^[^\s@<>()[\]\\,;:"]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;

export function normalizeEmail(raw: string): string | null {
	const email = raw.trim().toLowerCase();
	return email.length <= 254 && EMAIL.test(email) ? email : null;
}

/**
 * Checks and deduplicates import rows (by address, the last row wins): valid rows, and one error
 * per invalid row (its 1-based number in the input).
 */
export function checkImportRows(rows: readonly { email?: unknown; first_name?: unknown; last_name?: unknown }[]): {
	valid: ImportRow[];
	errors: RowError[];
} {
	const byEmail = new Map<string, ImportRow>();
	const errors: RowError[] = [];
	rows.forEach((row, i) => {
		const raw = typeof row.email === "string" ? row.email : null;
		const email = raw === null ? null : normalizeEmail(raw);
		if (email === null) {
			errors.push({ row: i + 1, email: raw, message: raw === null ? "email is missing" : "not a valid email address" });
			return;
		}
		const name = (v: unknown) => (typeof v === "string" ? v.trim().slice(0, 200) : "");
		byEmail.set(email, { email, first_name: name(row.first_name), last_name: name(row.last_name) });
	});
	return { valid: [...byEmail.values()], errors };
}

/**
 * RFC 4180 CSV (quoted fields, "" escapes, CRLF or LF) with a header row naming at least `email`;
 * returns one object per data row keyed by the header's lower-cased names, or an error.
 */
export function parseCsv(text: string): { rows: Record<string, string>[] } | { error: string } {
	const records: string[][] = [];
	let field = "";
	let record: string[] = [];
	let quoted = false;
	for (let i = 0; i < text.length; i++) {
		const ch = text[i];
		if (quoted) {
			if (ch === '"' && text[i + 1] === '"') {
				field += '"';
				i++;
			} else if (ch === '"') quoted = false;
			else field += ch;
		} else if (ch === '"' && field === "") quoted = true;
		else if (ch === ",") {
			record.push(field);
			field = "";
		} else if (ch === "\n" || ch === "\r") {
			if (ch === "\r" && text[i + 1] === "\n") i++;
			record.push(field);
			records.push(record);
			record = [];
			field = "";
		} else field += ch;
	}
	if (quoted) return { error: "unterminated quoted field" };
	if (field !== "" || record.length > 0) {
		record.push(field);
		records.push(record);
	}
	const nonEmpty = records.filter((r) => !(r.length === 1 && r[0]?.trim() === ""));
	const header = nonEmpty.shift()?.map((h) => h.trim().toLowerCase());
	if (!header?.includes("email")) return { error: "the first row must be a header naming an email column" };
	return {
		rows: nonEmpty.map((r) => Object.fromEntries(header.map((name, i) => [name, r[i] ?? ""]))),
	};
}

/** The provider idempotency key of one recipient of one campaign: the ledger's key. */
export function deliveryKey(campaignId: string, subscriberId: number): string {
	return `${campaignId}-${subscriberId}`;
}

/** Full-jitter exponential backoff: a random wait in [base·2^(n-1)/2, base·2^(n-1)], capped. */
export function backoffMs(attempt: number, random: number, baseMs = 2000, capMs = 300_000): number {
	const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, Math.min(attempt, 30) - 1));
	return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

export type Counters = { total: number; sent: number; failed: number; bounced: number; suppressed: number };

/** Progress (0–1), recipients per second since the start, and the expected finish (ms), or null. */
export function progressOf(
	c: Counters & { status: CampaignStatus; started_at: number | null; finished_at: number | null },
	now: number,
): { progress: number; rate: number; eta: number | null } {
	const done = c.sent + c.failed + c.bounced + c.suppressed;
	const progress = c.total === 0 ? (c.status === "sent" ? 1 : 0) : Math.min(1, done / c.total);
	const elapsed = c.started_at === null ? 0 : ((c.finished_at ?? now) - c.started_at) / 1000;
	const rate = elapsed > 0 ? Math.round((done / elapsed) * 100) / 100 : 0;
	const eta = c.status === "sending" && rate > 0 ? now + Math.round(((c.total - done) / rate) * 1000) : null;
	return { progress: Math.round(progress * 10_000) / 10_000, rate, eta };
}

/** A finished campaign is `failed` when nothing was delivered and some recipient failed for good. */
export function finalStatus(c: Counters): "sent" | "failed" {
	return c.sent === 0 && c.bounced === 0 && c.failed > 0 ? "failed" : "sent";
}

/** What the send/pause/resume/cancel verbs do from each status ("noop": answer as is). */
export function transition(
	verb: "send" | "pause" | "resume" | "cancel",
	from: CampaignStatus,
): CampaignStatus | "noop" | "conflict" {
	const table: Record<typeof verb, Partial<Record<CampaignStatus, CampaignStatus | "noop">>> = {
		send: { draft: "sending", sending: "noop", paused: "noop", sent: "noop", failed: "noop" },
		pause: { sending: "paused", paused: "noop" },
		resume: { paused: "sending", sending: "noop" },
		cancel: { draft: "cancelled", sending: "cancelled", paused: "cancelled", cancelled: "noop" },
	};
	return table[verb][from] ?? "conflict";
}
