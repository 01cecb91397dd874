import { DurableObject } from "cloudflare:workers";
import type { ScheduleRow } from "../src/jobs/schedules/db";
import { findScheduleById, updateScheduleRun } from "../src/jobs/schedules/db";
import { jobSpecSchema } from "../src/jobs/spec";
import { alarmRetryDelayMs, nextOccurrence } from "../src/jobs/schedules/domain";
import { enqueueJobs } from "../src/jobs/enqueue";
import { errorText, log } from "../src/platform/log";

/** At most this many missed occurrences are caught up in one alarm (after an outage). */
const MAX_CATCH_UP = 100;

/** What an alarm leaves behind: stop (deleted or paused), the next occurrence, or a retry after a failure. */
type Settled = { kind: "stop" } | { kind: "next"; at: number | null } | { kind: "retry" };

/**
 * One schedule's timer. The alarm is set to the next occurrence; when it fires, each due
 * occurrence enqueues one job whose dedupe key names the occurrence (so a re-fired alarm cannot
 * run it twice), and the next occurrence is computed strictly after the last one fired. Whatever
 * happens while firing, the alarm is set again (finally): to the next occurrence, or, when D1 or
 * the enqueue failed, to a retry with backoff (10 s doubling to 10 minutes) from the occurrence
 * that failed.
 */
export class JobSchedule extends DurableObject<Env> {
	/** (Re)arms the timer from the schedule's row in D1; a paused or deleted schedule disarms it. */
	async sync(scheduleId: string): Promise<number | null> {
		await this.ctx.storage.put("id", scheduleId);
		const row = await findScheduleById(this.env.DB, scheduleId);
		if (!row || row.paused) {
			await this.ctx.storage.deleteAlarm();
			return null;
		}
		const cursor = (await this.ctx.storage.get<number>("cursor")) ?? Date.now();
		const next = nextOccurrence(row.cron, row.timezone, Math.max(cursor, Date.now() - 1));
		await this.#arm(scheduleId, next);
		return next;
	}

	/**
	 * The sweeper's repair of an overdue schedule: an alarm already set (perhaps a retry) is left
	 * alone; a lost one fires now, catching up from the stored next occurrence; a schedule that
	 * never had one is synced from D1. Returns whether it changed anything.
	 */
	async repair(scheduleId: string): Promise<boolean> {
		if ((await this.ctx.storage.getAlarm()) !== null) return false;
		const next = await this.ctx.storage.get<number | null>("next");
		if (typeof next === "number") {
			await this.ctx.storage.put("id", scheduleId);
			await this.ctx.storage.setAlarm(Date.now());
		} else await this.sync(scheduleId);
		return true;
	}

	override async alarm(): Promise<void> {
		const id = await this.ctx.storage.get<string>("id");
		if (!id) return;
		let settled: Settled = { kind: "retry" };
		try {
			settled = await this.#fire(id);
		} catch (err) {
			log.error("schedule alarm failed; retrying with backoff", { schedule_id: id, error: errorText(err) });
		} finally {
			await this.#settle(id, settled);
		}
	}

	/** Enqueues each due occurrence, storing progress after each, so a retry resumes where it failed. */
	async #fire(id: string): Promise<Settled> {
		const row = await findScheduleById(this.env.DB, id);
		if (!row || row.paused) return { kind: "stop" };
		let due = (await this.ctx.storage.get<number | null>("next")) ?? null;
		const now = Date.now();
		let fired = 0;
		let last: number | null = null;
		while (due !== null && due <= now && fired < MAX_CATCH_UP) {
			await this.#enqueueOccurrence(row, due, now);
			last = due;
			fired += 1;
			due = nextOccurrence(row.cron, row.timezone, due);
			await this.ctx.storage.put({ cursor: last, next: due });
		}
		await updateScheduleRun(this.env.DB, id, { next_run_at: due, last_run_at: last });
		return { kind: "next", at: due };
	}

	async #enqueueOccurrence(row: ScheduleRow, due: number, now: number): Promise<void> {
		const parsed: unknown = JSON.parse(row.job);
		const spec = jobSpecSchema.safeParse(parsed);
		if (!spec.success) {
			// A template no longer valid cannot become valid by retrying: skipped, and said so.
			log.error("schedule job template invalid; occurrence skipped", { schedule_id: row.id, occurrence: due });
			return;
		}
		const dedupe = `schedule:${row.id}:${due}`;
		await enqueueJobs(
			this.env,
			row.tenant_id,
			[{ ...spec.data, dedupe_key: dedupe, delay_seconds: undefined, run_at: undefined }],
			now,
		);
	}

	async #settle(id: string, settled: Settled): Promise<void> {
		if (settled.kind === "stop") {
			await this.ctx.storage.delete("failures");
			await this.ctx.storage.deleteAlarm();
			return;
		}
		if (settled.kind === "next") {
			await this.ctx.storage.delete("failures");
			await this.#arm(id, settled.at);
			return;
		}
		const failures = ((await this.ctx.storage.get<number>("failures")) ?? 0) + 1;
		await this.ctx.storage.put("failures", failures);
		await this.ctx.storage.setAlarm(Date.now() + alarmRetryDelayMs(failures));
	}

	/** Sets the alarm first (storage of this object), then records next_run_at in D1 (best effort). */
	async #arm(id: string, next: number | null): Promise<void> {
		await this.ctx.storage.put("next", next);
		if (next === null) await this.ctx.storage.deleteAlarm();
		else await this.ctx.storage.setAlarm(next);
		try {
			await updateScheduleRun(this.env.DB, id, { next_run_at: next });
		} catch (err) {
			// The alarm is set; D1's next_run_at catches up at the next firing.
			log.warn("schedule next_run_at not recorded", { schedule_id: id, error: errorText(err) });
		}
	}
}
