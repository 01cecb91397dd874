import type { StageRow } from "./db";
import { findRecordingById, updateStage } from "./db";
import { countRepair, doneUnits, findStagesToSweep, markSwept } from "./sweep-db";
import { advanceJobKey, unitJobKey, unitsOfPhase } from "./domain";
import { advanceRecording, enqueueLostUnits, finishRecording, startStage } from "./pipeline";
import { HOOKS } from "./service";
import { newestJobsByDedupeKey } from "../jobs/control";
import type { JobRow } from "../jobs/db";
import { errorText, log } from "../platform/log";

export type SweepFigures = { checked: number; failed: number; reenqueued: number; advanced: number; restarted: number };
type Verdict = Exclude<keyof SweepFigures, "checked"> | null;

/** Stages looked at per run (each costs a handful of D1 queries; the run stays far under 1,000). */
const SWEEP_LIMIT = 20;
/**
 * Lost jobs of a stage are enqueued again at most this often, as the jobs platform retries a job
 * at most DEFAULT_MAX_RETRIES times; after that the stage fails.
 */
export const MAX_REPAIRS = 3;
const BROKEN: ReadonlySet<JobRow["status"]> = new Set(["dead", "cancelled"]);

/**
 * The every-minute sweep of recording stages stuck "running": stages nobody advanced or looked at
 * for RECORDINGS_STUCK_GRACE_SECONDS are checked against their units' jobs. A unit job that ended
 * dead (retries spent) or cancelled fails the stage and the recording; a unit whose job is gone
 * (never written, or purged) is enqueued again, at most MAX_REPAIRS times; a unit whose job
 * completed but whose advance job is gone, dead or cancelled is advanced here; a stage whose jobs
 * were never written is started again. Every change is a compare-and-set on the stage's version.
 */
export async function sweepStuckStages(env: Env, now = Date.now()): Promise<SweepFigures> {
	const figures: SweepFigures = { checked: 0, failed: 0, reenqueued: 0, advanced: 0, restarted: 0 };
	const grace = Number(env.RECORDINGS_STUCK_GRACE_SECONDS) * 1000;
	for (const stage of await findStagesToSweep(env.DB, now - grace, SWEEP_LIMIT)) {
		figures.checked++;
		try {
			const verdict = await sweepStage(env, stage, now);
			if (verdict) figures[verdict]++;
		} catch (error) {
			log.error("stage sweep failed", {
				recording_id: stage.recording_id,
				stage: stage.stage,
				error: errorText(error),
			});
		}
		await markSwept(env.DB, stage.recording_id, stage.stage, now);
	}
	return figures;
}

async function sweepStage(env: Env, stage: StageRow, now: number): Promise<Verdict> {
	const rec = await findRecordingById(env.DB, stage.recording_id);
	if (!rec || rec.status !== "processing") return null;
	// Crashed between the pending → running write and writing its jobs.
	if (stage.job_ids === "[]") return (await startStage(env, rec, stage, now)) ? "restarted" : null;
	const done = await doneUnits(env.DB, rec.id, stage.stage);
	const phaseUnits = unitsOfPhase(stage.phase, stage.segments);
	const open = phaseUnits.filter((u) => !done.has(u));
	if (open.length === 0) {
		// Every unit counted, the stage not moved on (the advance died between the two writes).
		await advanceRecording(env, { recording_id: rec.id, stage: stage.stage, unit: phaseUnits[0] ?? 0 }, HOOKS);
		return "advanced";
	}
	const keys = open.flatMap((u) => [unitJobKey(rec.id, stage.stage, u), advanceJobKey(rec.id, stage.stage, u)]);
	const jobs = await newestJobsByDedupeKey(env, rec.tenant_id, keys);
	const lost: number[] = [];
	const unadvanced: number[] = [];
	for (const unit of open) {
		const job = jobs.get(unitJobKey(rec.id, stage.stage, unit));
		if (!job) lost.push(unit);
		else if (BROKEN.has(job.status)) return fail(env, stage, job.error ?? `job ${job.id} ended ${job.status}`, now);
		else if (job.status === "completed") {
			const advance = jobs.get(advanceJobKey(rec.id, stage.stage, unit));
			if (!advance || BROKEN.has(advance.status)) unadvanced.push(unit);
		}
		// Otherwise the job is live: the jobs platform retries it and times out its claims.
	}
	for (const unit of unadvanced) await advanceRecording(env, { recording_id: rec.id, stage: stage.stage, unit }, HOOKS);
	if (lost.length === 0) return unadvanced.length > 0 ? "advanced" : null;
	if (stage.repairs >= MAX_REPAIRS)
		return fail(env, stage, `jobs of unit(s) ${lost.join(", ")} lost after ${stage.repairs} repairs`, now);
	// The compare-and-set picks one sweeper; dedupe keys keep a live job from being doubled anyway.
	if (!(await countRepair(env.DB, stage, now))) return null;
	await enqueueLostUnits(env, rec, stage, lost, now);
	log.warn("recording stage jobs enqueued again", { recording_id: rec.id, stage: stage.stage, units: lost });
	return "reenqueued";
}

async function fail(env: Env, stage: StageRow, error: string, now: number): Promise<Verdict> {
	const change = { status: "failed" as const, error };
	if (!(await updateStage(env.DB, stage.recording_id, stage.stage, stage.version, change, now))) return null;
	await finishRecording(env, stage.recording_id, "failed", HOOKS, now);
	return "failed";
}
