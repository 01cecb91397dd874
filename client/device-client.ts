import { sha256Hex } from "../src/platform/crypto";
import { NONCE_HEADER, SIGNATURE_HEADER, signParts, TIMESTAMP_HEADER } from "../src/devices/request-signing";
import type { GetApiV1DevicesByDeviceIdScheduleData as DeviceSchedule } from "./api-types";
import type { BackoffOptions } from "./backoff";
import { backoffDelay, DEFAULT_BACKOFF, isRetryableStatus, parseRetryAfter } from "./backoff";
import type { OutboxItem, OutboxStorage, RejectedItem } from "./outbox";

/**
 * The Floodgate device client, for vending machines, trucks and gateways. Runs anywhere with
 * `fetch` and Web Crypto (Node >= 20, Workers, browsers): no Node APIs. Every dependency on the
 * outside world (clock, randomness, fetch, storage) is injected, so its timing is testable.
 *
 * Requests go into an outbox first and leave it only on a 2xx, or on a 4xx that no retry can fix
 * (anything but 408, 425, 429 and a clock-skew 401: e.g. 400 validation_failed, 413
 * payload_too_large), which is dropped with a logged reason and passed to `onRejected`, so one
 * refused request never blocks the outbox behind it. Failures are retried with capped exponential backoff and full
 * jitter; a Retry-After (429, 503) is honoured instead. Each request carries an Idempotency-Key
 * fixed when it was queued, so retries never duplicate, and a signature when a secret is set.
 */

export type Clock = { now(): number; sleep(ms: number): Promise<void> };

export type DeviceClientOptions = {
	baseUrl: string;
	deviceId: string;
	/** A device token (fg_dev_…) or, for a gateway, the tenant API key. */
	token: string;
	signingSecret?: string;
	fetch?: typeof fetch;
	clock?: Clock;
	/** Uniform in [0, 1): drives the jitter. */
	random?: () => number;
	storage: OutboxStorage;
	backoff?: BackoffOptions;
	/** Attempts per request within one flush; what is still unsent stays in the outbox for the next. */
	maxAttemptsPerFlush?: number;
	onRejected?: (item: RejectedItem) => void;
	/** Where dropped requests are reported; default console.warn. */
	log?: (message: string, fields: Record<string, unknown>) => void;
};

export type FlushResult = { sent: number; retries: number; rejected: number; pending: number; waitedMs: number };

const WARN = (message: string, fields: Record<string, unknown>) => console.warn(message, fields);

const SYSTEM_CLOCK: Clock = { now: () => Date.now(), sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)) };

export class DeviceClient {
	readonly #o: Required<Omit<DeviceClientOptions, "signingSecret" | "onRejected">> &
		Pick<DeviceClientOptions, "signingSecret" | "onRejected">;
	#nextReportAt: number | null = null;
	/** Server time minus device time, learnt from a clock_skew rejection. */
	#clockOffsetMs = 0;
	#sequence = 0;

	constructor(options: DeviceClientOptions) {
		this.#o = {
			fetch: (input, init) => fetch(input, init),
			clock: SYSTEM_CLOCK,
			random: Math.random,
			backoff: DEFAULT_BACKOFF,
			maxAttemptsPerFlush: 8,
			log: WARN,
			...options,
		};
	}

	/** When the platform last said to report next (ms since the epoch), if it has. */
	get nextReportAt(): number | null {
		return this.#nextReportAt;
	}

	/** Queues a request durably; it is sent by the next `flush`. Returns its idempotency key. */
	async enqueue(method: OutboxItem["method"], path: string, body: unknown, id?: string): Promise<string> {
		const items = await this.#o.storage.load();
		const itemId =
			id ??
			`${this.#o.deviceId}-${this.#o.clock.now().toString(36)}-${(this.#sequence++).toString(36)}-${randomToken(4)}`;
		// The same id queued twice (a report re-queued after a restart) stays one request.
		if (!items.some((i) => i.id === itemId))
			items.push({ id: itemId, method, path, body, attempts: 0, createdAt: this.#o.clock.now() });
		await this.#o.storage.save(items);
		return itemId;
	}

	/** Queues the machine's nightly report (one per local date) and sends the outbox. */
	async report(report: { report_date: string } & Record<string, unknown>): Promise<FlushResult> {
		await this.enqueue(
			"POST",
			`/api/v1/machines/${encodeURIComponent(this.#o.deviceId)}/reports`,
			report,
			`${this.#o.deviceId}-report-${report.report_date}`,
		);
		return this.flush();
	}

	/** Sends the outbox in order, retrying each request with backoff; stops early if a request keeps failing. */
	async flush(): Promise<FlushResult> {
		const result: FlushResult = { sent: 0, retries: 0, rejected: 0, pending: 0, waitedMs: 0 };
		let items = await this.#o.storage.load();
		let failures = 0;
		for (let item = items[0]; item !== undefined; item = items[0]) {
			const outcome = await this.#send(item);
			if (outcome.kind === "retry") {
				item.attempts += 1;
				failures += 1;
				await this.#o.storage.save(items);
				if (failures >= this.#o.maxAttemptsPerFlush) break;
				result.retries += 1;
				const wait = outcome.retryAfterMs ?? backoffDelay(failures - 1, this.#o.backoff, this.#o.random);
				result.waitedMs += wait;
				await this.#o.clock.sleep(wait);
				continue;
			}
			items = items.slice(1);
			failures = 0;
			await this.#o.storage.save(items);
			if (outcome.kind === "sent") result.sent += 1;
			else {
				result.rejected += 1;
				const reason = refusalReason(outcome.status, outcome.error);
				this.#o.log("outbox: request dropped, the platform refused it for good", {
					id: item.id,
					method: item.method,
					path: item.path,
					attempts: item.attempts + 1,
					status: outcome.status,
					reason,
				});
				this.#o.onRejected?.({ ...item, status: outcome.status, error: outcome.error, reason });
			}
		}
		result.pending = items.length;
		return result;
	}

	/** Asks the platform for this device's next report time (GET /devices/{id}/schedule). */
	async fetchSchedule(): Promise<number | null> {
		const res = await this.#request(
			"GET",
			`/api/v1/devices/${encodeURIComponent(this.#o.deviceId)}/schedule`,
			undefined,
			null,
		);
		if (res.ok) this.#learnSchedule(await readJson(res));
		return this.#nextReportAt;
	}

	/** Sleeps until the next report time (fetching it first when unknown); returns the time slept. */
	async waitForSlot(): Promise<number> {
		const at = this.#nextReportAt ?? (await this.fetchSchedule());
		const wait = at === null ? 0 : Math.max(0, at - this.#o.clock.now());
		if (wait > 0) await this.#o.clock.sleep(wait);
		return wait;
	}

	async #send(
		item: OutboxItem,
	): Promise<
		| { kind: "sent" }
		| { kind: "retry"; retryAfterMs: number | null }
		| { kind: "rejected"; status: number; error: unknown }
	> {
		let res: Response;
		try {
			res = await this.#request(item.method, item.path, JSON.stringify(item.body), item.id);
		} catch {
			return { kind: "retry", retryAfterMs: null };
		}
		const body = await readJson(res);
		if (res.ok) {
			this.#learnSchedule(body);
			return { kind: "sent" };
		}
		if (isRetryableStatus(res.status))
			return { kind: "retry", retryAfterMs: parseRetryAfter(res.headers.get("Retry-After"), this.#o.clock.now()) };
		const serverTime = skewedServerTime(body);
		if (res.status === 401 && serverTime !== null) {
			// Our clock is off: sign with the server's time from now on and try again at once.
			this.#clockOffsetMs = serverTime * 1000 - this.#o.clock.now();
			return { kind: "retry", retryAfterMs: 0 };
		}
		return { kind: "rejected", status: res.status, error: body };
	}

	async #request(
		method: string,
		path: string,
		body: string | undefined,
		idempotencyKey: string | null,
	): Promise<Response> {
		const headers = new Headers({ Authorization: `Bearer ${this.#o.token}` });
		if (body !== undefined) headers.set("Content-Type", "application/json");
		if (idempotencyKey) headers.set("Idempotency-Key", idempotencyKey);
		if (this.#o.signingSecret) {
			const timestamp = Math.floor((this.#o.clock.now() + this.#clockOffsetMs) / 1000);
			const nonce = randomToken(16);
			const signature = await signParts(this.#o.signingSecret, {
				method,
				pathWithQuery: path,
				timestamp,
				nonce,
				bodySha256: await sha256Hex(body ?? ""),
			});
			headers.set(TIMESTAMP_HEADER, String(timestamp));
			headers.set(NONCE_HEADER, nonce);
			headers.set(SIGNATURE_HEADER, signature);
		}
		return this.#o.fetch(new URL(path, this.#o.baseUrl).toString(), {
			method,
			headers,
			...(body === undefined ? {} : { body }),
		});
	}

	#learnSchedule(body: unknown): void {
		if (isSchedule(body)) {
			const at = Date.parse(body.next_report_at);
			if (!Number.isNaN(at)) this.#nextReportAt = at;
		}
	}
}

/**
 * The answer of GET /devices/{id}/schedule, typed by the generated client/api-types.ts: a renamed
 * field fails the build here. The check itself stays at run time (a proxy may answer anything).
 */
function isSchedule(body: unknown): body is Pick<DeviceSchedule, "next_report_at"> {
	return (
		typeof body === "object" && body !== null && "next_report_at" in body && typeof body.next_report_at === "string"
	);
}

async function readJson(res: Response): Promise<unknown> {
	try {
		return await res.json();
	} catch {
		return null;
	}
}

/** "413 payload_too_large: This telemetry is …" from our error shape; the status alone otherwise. */
function refusalReason(status: number, body: unknown): string {
	if (typeof body === "object" && body !== null && "error" in body) {
		const error = body.error;
		if (typeof error === "object" && error !== null) {
			const code = "code" in error && typeof error.code === "string" ? error.code : "";
			const message = "message" in error && typeof error.message === "string" ? error.message : "";
			if (code || message) return `${status} ${code}${code && message ? ": " : ""}${message}`;
		}
	}
	return `HTTP ${status}`;
}

function skewedServerTime(body: unknown): number | null {
	if (typeof body !== "object" || body === null || !("error" in body)) return null;
	const error = body.error;
	if (
		typeof error !== "object" ||
		error === null ||
		!("code" in error) ||
		error.code !== "clock_skew" ||
		!("details" in error)
	)
		return null;
	const details = error.details;
	return typeof details === "object" &&
		details !== null &&
		"server_time" in details &&
		typeof details.server_time === "number"
		? details.server_time
		: null;
}

function randomToken(bytes: number): string {
	let out = "";
	for (const b of crypto.getRandomValues(new Uint8Array(bytes))) out += b.toString(16).padStart(2, "0");
	return out;
}
