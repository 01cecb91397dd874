import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../../src/index";
import { call, createTenant, json } from "../helpers";
import { enqueue, post } from "./jobs-helpers";

/** Fires the Worker's scheduled handler for `cron` and waits for the work it hands to waitUntil. */
async function runCron(cron: string): Promise<void> {
	const ctx = createExecutionContext();
	await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron }), env, ctx);
	await waitOnExecutionContext(ctx);
}

/**
 * An external job claimed by a worker that went silent: its claim (visibility timeout) ended a
 * second ago, so the next sweep must take it back. External, so no queue consumer touches it.
 */
async function jobWithExpiredClaim(): Promise<string> {
	const { apiKey } = await createTenant();
	const declared = await call("PUT", "/api/v1/job-types/render", { token: apiKey, body: { mode: "external" } });
	expect(declared.status).toBe(200);
	const id = await enqueue(apiKey, { type: "render", max_retries: 2 });
	const claimed = await json(await post(apiKey, "/jobs/claim", { worker_id: "w1", types: ["render"] }));
	expect(claimed.job_id).toBe(id);
	await env.DB.prepare("UPDATE jobs SET claim_expires_at = ? WHERE id = ?")
		.bind(Date.now() - 1_000, id)
		.run();
	return id;
}

async function jobRow(id: string): Promise<Record<string, unknown> | null> {
	return env.DB.prepare("SELECT * FROM jobs WHERE id = ?").bind(id).first();
}

describe("the cron dispatch table", () => {
	it('runs the job sweeper on "* * * * *": an expired claim is failed and left for a retry', async () => {
		const id = await jobWithExpiredClaim();
		expect(await jobRow(id)).toMatchObject({ status: "processing", attempts: 1 });
		await runCron("* * * * *");
		const row = await jobRow(id);
		expect(row).toMatchObject({ status: "failed", attempts: 1, claim_expires_at: null });
		expect(String(row?.error)).toContain("visibility timeout");
	});

	it("ignores an expression it has no handler for, leaving the job row untouched", async () => {
		const id = await jobWithExpiredClaim();
		const before = await jobRow(id);
		expect(before).toMatchObject({ status: "processing" });
		await runCron("5 4 * * *");
		expect(await jobRow(id)).toEqual(before);
	});
});
