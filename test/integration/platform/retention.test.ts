import { createExecutionContext, createScheduledController, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../../src/index";
import { jobRetentionTargets } from "../../../src/jobs/retention";
import { claimPayment, settlePayment } from "../../../src/payments/db";
import { sweepRetention } from "../../../src/platform/retention";
import { insertDeadLetters } from "../../../src/platform/dead-letters-db";
import { createTenant } from "../helpers";

const DAY = 86_400_000;

async function count(sql: string, ...params: (string | number)[]): Promise<number> {
	const row = await env.DB.prepare(sql)
		.bind(...params)
		.first<{ n: number }>();
	return row?.n ?? 0;
}

async function job(tenantId: string, id: string, status: string, finishedDaysAgo: number | null): Promise<void> {
	const at = Date.now() - (finishedDaysAgo ?? 0) * DAY;
	await env.DB.prepare(
		`INSERT INTO jobs (id, tenant_id, type, runner, status, priority, payload, max_retries, timeout_seconds, ready_at,
 created_at, updated_at, completed_at) VALUES (?, ?, 'noop', 'queue', ?, 'medium', '{}', 0, 60, ?, ?, ?, ?)`,
	)
		.bind(id, tenantId, status, at, at, at, finishedDaysAgo === null ? null : at)
		.run();
	await env.DB.prepare(
		"INSERT INTO job_logs (job_id, at, level, message) VALUES (?, ?, 'info', 'ran'), (?, ?, 'info', 'done')",
	)
		.bind(id, at, id, at)
		.run();
}

async function point(tenantId: string, truck: string, daysAgo: number): Promise<void> {
	const at = Date.now() - daysAgo * DAY;
	await env.DB.prepare(
		"INSERT INTO truck_locations (tenant_id, truck_id, recorded_at, lat, lng, received_at) VALUES (?, ?, ?, 1, 2, ?)",
	)
		.bind(tenantId, truck, at, at)
		.run();
}

async function report(tenantId: string, machine: string, daysAgo: number): Promise<void> {
	const at = Date.now() - daysAgo * DAY;
	await env.DB.prepare(
		`INSERT INTO machine_reports (tenant_id, machine_id, report_date, inventory, cash_cents, temperature_c, error_codes,
 firmware, received_at, message_id) VALUES (?, ?, '2026-01-01', '[]', 0, 4, '[]', '1.0', ?, ?)`,
	)
		.bind(tenantId, machine, at, `msg-${machine}`)
		.run();
}

async function settledPayment(tenantId: string, key: string, daysAgo: number): Promise<string> {
	const at = Date.now() - daysAgo * DAY;
	const row = await claimPayment(env.DB, {
		id: `pay_${crypto.randomUUID().replaceAll("-", "")}`,
		tenant_id: tenantId,
		idempotency_key: key,
		request_hash: "h",
		machine_id: "vm-1",
		amount_cents: 100,
		currency: "EUR",
		card_token: "tok_visa",
		items: "[]",
		status: "pending",
		processor_charge_id: null,
		decline_code: null,
		created_at: at,
		updated_at: at,
	});
	await settlePayment(
		env.DB,
		row.id,
		{ status: "succeeded", chargeId: "ch_1", declineCode: null, answer: '{"id":"ch_1"}' },
		at,
	);
	return row.id;
}

async function runRetentionCron(): Promise<void> {
	const ctx = createExecutionContext();
	await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/5 * * * *" }), env, ctx);
	await waitOnExecutionContext(ctx);
}

describe("retention", () => {
	it("removes what outlived its retention and keeps what did not, from the */5 cron", async () => {
		const { tenantId } = await createTenant();
		await job(tenantId, "job_old_done", "completed", 31);
		await job(tenantId, "job_old_dead", "dead", 40);
		await env.DB.prepare(
			"INSERT INTO job_dependencies (job_id, depends_on) VALUES ('job_old_dead', 'job_old_done')",
		).run();
		await job(tenantId, "job_young_done", "completed", 29);
		await job(tenantId, "job_old_live", "queued", null);
		await env.DB.prepare("UPDATE jobs SET created_at = ?, updated_at = ? WHERE id = 'job_old_live'")
			.bind(Date.now() - 60 * DAY, Date.now() - 60 * DAY)
			.run();
		await env.DB.prepare(
			"INSERT INTO job_dead_letters (queue, body, received_at) VALUES ('q', 'old', ?), ('q', 'young', ?)",
		)
			.bind(Date.now() - 31 * DAY, Date.now() - 29 * DAY)
			.run();
		await point(tenantId, "t-old", 91);
		await point(tenantId, "t-young", 89);
		await report(tenantId, "vm-old", 91);
		await report(tenantId, "vm-young", 89);
		const letter = { tenantId, kind: "locations", body: "{}", updateCount: 1, reason: "r", attempts: 1 };
		await insertDeadLetters(env.DB, [
			{ ...letter, id: "dl_old", messageId: "m-old", createdAt: Date.now() - 31 * DAY },
			{ ...letter, id: "dl_young", messageId: "m-young", createdAt: Date.now() - 29 * DAY },
		]);
		const oldPayment = await settledPayment(tenantId, "k-old", 91);
		const youngPayment = await settledPayment(tenantId, "k-young", 89);

		await runRetentionCron();

		const jobs = await env.DB.prepare("SELECT id FROM jobs WHERE tenant_id = ? ORDER BY id")
			.bind(tenantId)
			.all<{ id: string }>();
		expect(jobs.results.map((j) => j.id)).toEqual(["job_old_live", "job_young_done"]);
		expect(await count("SELECT COUNT(*) AS n FROM job_logs WHERE job_id IN ('job_old_done', 'job_old_dead')")).toBe(0);
		expect(await count("SELECT COUNT(*) AS n FROM job_logs WHERE job_id = 'job_young_done'")).toBe(2);
		expect(await count("SELECT COUNT(*) AS n FROM job_dependencies WHERE job_id = 'job_old_dead'")).toBe(0);
		expect(await count("SELECT COUNT(*) AS n FROM job_dead_letters WHERE body = 'old'")).toBe(0);
		expect(await count("SELECT COUNT(*) AS n FROM job_dead_letters WHERE body = 'young'")).toBe(1);
		expect(await count("SELECT COUNT(*) AS n FROM truck_locations WHERE tenant_id = ?", tenantId)).toBe(1);
		expect(await count("SELECT COUNT(*) AS n FROM truck_locations WHERE truck_id = 't-young'")).toBe(1);
		expect(await count("SELECT COUNT(*) AS n FROM machine_reports WHERE tenant_id = ?", tenantId)).toBe(1);
		expect(await count("SELECT COUNT(*) AS n FROM machine_reports WHERE machine_id = 'vm-young'")).toBe(1);
		expect(await count("SELECT COUNT(*) AS n FROM dead_letters WHERE id = 'dl_old'")).toBe(0);
		expect(await count("SELECT COUNT(*) AS n FROM dead_letters WHERE id = 'dl_young'")).toBe(1);
		// The ledger rows stay; only the old raw answer is gone.
		const answers = await env.DB.prepare("SELECT id, status, processor_answer FROM payments WHERE tenant_id = ?")
			.bind(tenantId)
			.all<{ id: string; status: string; processor_answer: string | null }>();
		expect(answers.results).toHaveLength(2);
		expect(answers.results.find((p) => p.id === oldPayment)).toMatchObject({
			status: "succeeded",
			processor_answer: null,
		});
		expect(answers.results.find((p) => p.id === youngPayment)?.processor_answer).toBe('{"id":"ch_1"}');
	});

	it("removes at most batchSize × batchesPerTarget rows of a target per run, the rest on later runs", async () => {
		const old = Date.now() - 31 * DAY;
		const values = Array.from({ length: 25 }, () => "('q', 'bounded', ?)").join(", ");
		await env.DB.prepare(`INSERT INTO job_dead_letters (queue, body, received_at) VALUES ${values}`)
			.bind(...Array.from({ length: 25 }, () => old))
			.run();
		const targets = jobRetentionTargets(env, Date.now()).filter((t) => t.name === "job_dead_letters");
		const bounds = { batchSize: 5, batchesPerTarget: 2 };
		const remaining = () => count("SELECT COUNT(*) AS n FROM job_dead_letters WHERE body = 'bounded'");

		expect(await sweepRetention(targets, bounds)).toEqual({ job_dead_letters: 10 });
		expect(await remaining()).toBe(15);
		expect(await sweepRetention(targets, bounds)).toEqual({ job_dead_letters: 10 });
		expect(await remaining()).toBe(5);
		expect(await sweepRetention(targets, bounds)).toEqual({ job_dead_letters: 5 });
		expect(await remaining()).toBe(0);
		expect(await sweepRetention(targets, bounds)).toEqual({ job_dead_letters: 0 });
	});
});
