import { DurableObject } from "cloudflare:workers";
import { findScheduleById, updateScheduleRun } from "../src/jobs/schedules/db";
import { jobSpecSchema } from "../src/jobs/spec";
import { nextOccurrence } from "../src/jobs/schedules/domain";
import { enqueueJobs } from "../src/jobs/enqueue";

/** At most this many missed occurrences are caught up in one alarm (after an outage). */
const MAX_CATCH_UP = 100;

/**
 * One schedule's timer. The alarm is set to the next occurrence; when it fires, each due
 * occurrence enqueues one job whose dedupe key names the occurrence (so a re-fired alarm cannot
 * run it twice), and the next occurrence is computed strictly after the last one fired.
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

	override async alarm(): Promise<void> {
		const id = await this.ctx.storage.get<string>("id");
		if (!id) return;
		const row = await findScheduleById(this.env.DB, id);
		if (!row || row.paused) return;
		const spec = jobSpecSchema.safeParse(JSON.parse(row.job));
		let due = (await this.ctx.storage.get<number>("next")) ?? null;
		const now = Date.now();
		let fired = 0;
		let last: number | null = null;
		while (due !== null && due <= now && fired < MAX_CATCH_UP) {
			if (spec.success) {
				const dedupe = `schedule:${id}:${due}`;
				await enqueueJobs(
					this.env,
					row.tenant_id,
					[{ ...spec.data, dedupe_key: dedupe, delay_seconds: undefined, run_at: undefined }],
					now,
				);
			}
			await this.ctx.storage.put("cursor", due);
			last = due;
			fired += 1;
			due = nextOccurrence(row.cron, row.timezone, due);
		}
		await updateScheduleRun(this.env.DB, id, { next_run_at: due, last_run_at: last });
		await this.#arm(id, due);
	}

	async #arm(id: string, next: number | null): Promise<void> {
		await this.ctx.storage.put("next", next);
		if (next === null) await this.ctx.storage.deleteAlarm();
		else await this.ctx.storage.setAlarm(next);
		await updateScheduleRun(this.env.DB, id, { next_run_at: next });
	}
}
