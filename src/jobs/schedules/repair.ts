import { findOverdueSchedules } from "./db";
import { errorText, log } from "../../platform/log";

/** A schedule whose next occurrence passed this long ago has lost its alarm (or never had one). */
export const OVERDUE_MS = 2 * 60_000;
/** Schedules repaired per sweep (each one Durable Object call). */
const REPAIR_LIMIT = 50;

/**
 * The sweeper's pass over schedules: each unpaused one overdue by more than OVERDUE_MS gets its
 * alarm set again (JobSchedule.repair leaves an alarm that is already set, such as a retry,
 * alone). Returns how many were re-armed.
 */
export async function repairOverdueSchedules(env: Env, now: number): Promise<number> {
	let repaired = 0;
	for (const row of await findOverdueSchedules(env.DB, now - OVERDUE_MS, REPAIR_LIMIT)) {
		try {
			if (await env.JOB_SCHEDULE.getByName(row.id).repair(row.id)) repaired += 1;
		} catch (err) {
			log.warn("schedule repair failed; next sweep tries again", { schedule_id: row.id, error: errorText(err) });
		}
	}
	return repaired;
}
