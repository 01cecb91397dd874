import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { handleJobsBatch } from "../../../queues/jobs";
import { createTenant, json } from "../helpers";
import { getJob, post, waitForJob } from "./jobs-helpers";

describe("the jobs queue consumer", () => {
	it("acks a malformed token on its own and runs the valid ones", async () => {
		const { tenantId, apiKey } = await createTenant();
		const { jobs } = (await json(await post(apiKey, "/jobs/bulk", { jobs: [{ type: "noop" }, { type: "noop" }] }))) as {
			jobs: { job_id: string }[];
		};
		const batch = createMessageBatch<unknown>("floodgate-jobs", [
			{ id: "m1", timestamp: new Date(), attempts: 1, body: { nonsense: true } },
			...jobs.map((j, i) => ({
				id: `m${i + 2}`,
				timestamp: new Date(),
				attempts: 1,
				body: { tenant_id: tenantId, job_id: j.job_id },
			})),
		]);
		const ctx = createExecutionContext();
		await handleJobsBatch(batch, env, ctx);
		const result = await getQueueResult(batch, ctx);
		expect(result.explicitAcks.sort()).toEqual(["m1", "m2", "m3"]);
		expect(result.retryMessages).toEqual([]);
		for (const j of jobs) await waitForJob(apiKey, j.job_id, (x) => x.status === "completed");
	});

	it("never runs a job twice when several consumers race for the same backlog", async () => {
		const { tenantId, apiKey } = await createTenant();
		const { jobs } = (await json(
			await post(apiKey, "/jobs/bulk", { jobs: Array.from({ length: 60 }, () => ({ type: "noop" })) }),
		)) as { jobs: { job_id: string }[] };
		const tokens = (prefix: string) =>
			createMessageBatch(
				"floodgate-jobs",
				jobs.slice(0, 30).map((j, i) => ({
					id: `${prefix}${i}`,
					timestamp: new Date(),
					attempts: 1,
					body: { tenant_id: tenantId, job_id: j.job_id },
				})),
			);
		await Promise.all(["a", "b", "c"].map((p) => handleJobsBatch(tokens(p), env, createExecutionContext())));
		for (const j of jobs) {
			await waitForJob(apiKey, j.job_id, (x) => x.status === "completed");
			expect((await getJob(apiKey, j.job_id)).attempts).toBe(1);
		}
	});
});
