import { describe, expect, it } from "vitest";
import type { StageStatus } from "../../../src/recordings/domain";
import {
	afterUnit,
	GRAPHS,
	MAX_SEGMENTS,
	recordingStatusOf,
	rootStages,
	segmentCount,
	segmentRange,
	stageProgress,
	unblockedBy,
} from "../../../src/recordings/domain";

const meeting = GRAPHS.meeting ?? { kind: "", stages: [] };

describe("segments", () => {
	it("cuts a source into segments of at most the segment size, at least one, at most MAX_SEGMENTS", () => {
		expect(segmentCount(0, 1000)).toBe(1);
		expect(segmentCount(1000, 1000)).toBe(1);
		expect(segmentCount(1001, 1000)).toBe(2);
		expect(segmentCount(50 * 1024 ** 3, 500 * 1024 ** 2)).toBe(103);
		expect(segmentCount(10 ** 15, 1)).toBe(MAX_SEGMENTS);
	});

	it("covers every byte exactly once, the last segment taking the remainder", () => {
		const ranges = [0, 1, 2].map((i) => segmentRange(2500, 3, i));
		expect(ranges).toEqual([
			{ index: 0, offset: 0, length: 833 },
			{ index: 1, offset: 833, length: 833 },
			{ index: 2, offset: 1666, length: 834 },
		]);
		expect(ranges.reduce((n, r) => n + r.length, 0)).toBe(2500);
	});
});

describe("stage graph", () => {
	it("starts audio, video and transcript together", () => {
		expect(rootStages(meeting).map((s) => s.name)).toEqual(["audio", "video", "transcript"]);
	});

	it("unblocks highlights only once all three of its predecessors completed, and summary after it", () => {
		const statuses = new Map<string, StageStatus>([
			["audio", "completed"],
			["video", "running"],
			["transcript", "completed"],
			["highlights", "pending"],
			["summary", "pending"],
		]);
		expect(unblockedBy(meeting, "audio", statuses)).toEqual([]);
		statuses.set("video", "completed");
		expect(unblockedBy(meeting, "video", statuses).map((s) => s.name)).toEqual(["highlights"]);
		statuses.set("highlights", "running");
		expect(unblockedBy(meeting, "video", statuses)).toEqual([]);
		statuses.set("highlights", "completed");
		expect(unblockedBy(meeting, "highlights", statuses).map((s) => s.name)).toEqual(["summary"]);
	});
});

describe("units", () => {
	it("completes a whole stage with its one unit", () => {
		expect(afterUnit("whole", 1, 1, false)).toEqual({ segmentsDone: 1, next: "complete" });
	});

	it("waits for every segment, then merges, then completes with the merge", () => {
		expect(afterUnit("segments", 3, 2, false)).toEqual({ segmentsDone: 2, next: "wait" });
		expect(afterUnit("segments", 3, 3, false)).toEqual({ segmentsDone: 3, next: "merge" });
		expect(afterUnit("merge", 3, 3, false)).toEqual({ segmentsDone: 3, next: "wait" });
		expect(afterUnit("merge", 3, 4, true)).toEqual({ segmentsDone: 3, next: "complete" });
	});

	it("reports progress as finished segments over segments", () => {
		expect(stageProgress("running", 4, 1)).toBe(0.25);
		expect(stageProgress("pending", 4, 0)).toBe(0);
		expect(stageProgress("completed", 4, 0)).toBe(1);
	});

	it("derives the recording's status from its stages", () => {
		expect(recordingStatusOf(["completed", "running"])).toBe("processing");
		expect(recordingStatusOf(["completed", "completed"])).toBe("ready");
		expect(recordingStatusOf(["completed", "failed"])).toBe("failed");
	});
});
