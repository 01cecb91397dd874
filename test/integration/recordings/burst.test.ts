import { describe, expect, it } from "vitest";
import { call, createTenant, json } from "../helpers";
import type { Json } from "../helpers";
import { completeUpload } from "./recording-helpers";

describe("a burst of recordings", () => {
	it("accepts 100 recordings at once: 3 processing (the intake limit), the rest queued, none lost", async () => {
		const { apiKey } = await createTenant();
		const { id: uploadId } = await completeUpload(apiKey, 100);
		const answers = await Promise.all(
			Array.from({ length: 100 }, (_, i) =>
				call("POST", "/api/v1/recordings", { token: apiKey, body: { meeting_id: `burst-${i}`, upload_id: uploadId } }),
			),
		);
		expect(answers.map((r) => r.status)).toEqual(Array.from({ length: 100 }, () => 202));
		const bodies = await Promise.all(answers.map((r) => json(r)));
		expect(new Set(bodies.map((b) => b.recording_id)).size).toBe(100);

		const all: Json[] = [];
		let cursor: string | null = null;
		do {
			const page = await json(
				await call("GET", `/api/v1/recordings?limit=100${cursor ? `&cursor=${cursor}` : ""}`, {
					token: apiKey,
				}),
			);
			all.push(...(page.recordings as Json[]));
			cursor = typeof page.next_cursor === "string" ? page.next_cursor : null;
		} while (cursor);
		expect(all).toHaveLength(100);
		expect(all.filter((r) => r.status === "processing")).toHaveLength(3);
		expect(all.filter((r) => r.status === "queued")).toHaveLength(97);
	});
});
