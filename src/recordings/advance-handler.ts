import { z } from "zod";
import type { JobHandler } from "../jobs/handlers/types";
import { PermanentJobError } from "../jobs/handlers/types";
import { advanceRecording } from "./pipeline";
import { HOOKS } from "./service";

const payloadSchema = z.object({
	recording_id: z.string().min(1).max(64),
	stage: z.string().min(1).max(64),
	unit: z.number().int().min(0),
});

/**
 * The built-in `recording.advance` job: released by the jobs platform when the unit's stage job
 * completed (it depends on that job), it moves the recording's pipeline on (src/recordings/pipeline.ts).
 */
export const recordingAdvanceHandler: JobHandler = {
	async run(payload, ctx) {
		const parsed = payloadSchema.safeParse(payload);
		if (!parsed.success) throw new PermanentJobError(`invalid recording.advance payload: ${parsed.error.message}`);
		return advanceRecording(ctx.env, parsed.data, HOOKS);
	},
};
