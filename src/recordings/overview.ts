import { listStages, recentRecordings } from "./db";
import { GRAPHS, stageProgress } from "./domain";
import type { RecordingStatus, StageStatus } from "./domain";

/** Recording pipelines at a glance (the dashboard): stage rows only, no job reads, no writes. */

export type PipelineStage = {
	name: string;
	after: string[];
	status: StageStatus;
	progress: number;
	segments: number;
	segments_done: number;
};
export type PipelineOverview = {
	recording_id: string;
	title: string | null;
	meeting_id: string;
	status: RecordingStatus;
	created_at: number;
	stages: PipelineStage[];
};

/**
 * The tenant's newest `limit` recordings with their stages in graph order, each stage naming the
 * stages it waits for. One query for the recordings and one per recording for its stages.
 */
export async function recentPipelines(db: D1Database, tenantId: string, limit: number): Promise<PipelineOverview[]> {
	const recordings = await recentRecordings(db, tenantId, limit);
	return Promise.all(
		recordings.map(async (r) => {
			const rows = await listStages(db, r.id);
			const defs = GRAPHS[r.kind]?.stages ?? [];
			const order = (name: string) => {
				const i = defs.findIndex((d) => d.name === name);
				return i === -1 ? defs.length : i;
			};
			const stages = rows
				.map((s): PipelineStage => ({
					name: s.stage,
					after: [...(defs.find((d) => d.name === s.stage)?.after ?? [])],
					status: s.status,
					progress: stageProgress(s.status, s.segments, s.segments_done),
					segments: s.segments,
					segments_done: s.status === "completed" ? s.segments : s.segments_done,
				}))
				.sort((a, b) => order(a.name) - order(b.name));
			return {
				recording_id: r.id,
				title: r.title,
				meeting_id: r.meeting_id,
				status: r.status,
				created_at: r.created_at,
				stages,
			};
		}),
	);
}
