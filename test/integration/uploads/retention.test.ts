import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createTenant } from "../helpers";
import { sweepRetention } from "../../../src/platform/retention";
import { uploadRetentionTargets } from "../../../src/uploads/retention";
import { createUpload, patch, randomBytes, tus } from "./tus-helpers";

const DAY_MS = 86_400_000;

async function statusOf(id: string): Promise<string | null> {
	const row = await env.DB.prepare("SELECT status FROM uploads WHERE id = ?").bind(id).first<{ status: string }>();
	return row?.status ?? null;
}

async function endedDaysAgo(id: string, days: number): Promise<void> {
	await env.DB.prepare("UPDATE uploads SET finished_at = ? WHERE id = ?")
		.bind(Date.now() - days * DAY_MS, id)
		.run();
}

describe("retention of uploads", () => {
	it("removes rows of uploads that ended without a file after UPLOADS_RETENTION_DAYS, and keeps the rest", async () => {
		const { apiKey } = await createTenant();
		const oldTerminated = await createUpload(apiKey, 100);
		expect((await tus("DELETE", oldTerminated.path, apiKey)).status).toBe(204);
		const oldExpired = await createUpload(apiKey, 100);
		expect(await runDurableObjectAlarm(env.TUS_UPLOADS.getByName(oldExpired.id))).toBe(true);
		const recentTerminated = await createUpload(apiKey, 100);
		expect((await tus("DELETE", recentTerminated.path, apiKey)).status).toBe(204);
		const oldComplete = await createUpload(apiKey, 10);
		expect((await patch(apiKey, oldComplete.path, 0, randomBytes(10))).status).toBe(204);
		const unfinished = await createUpload(apiKey, 100);
		expect(await statusOf(oldExpired.id)).toBe("expired");

		for (const u of [oldTerminated, oldExpired, oldComplete]) await endedDaysAgo(u.id, 8);
		await env.DB.prepare("UPDATE uploads SET created_at = ? WHERE id = ?")
			.bind(Date.now() - 30 * DAY_MS, unfinished.id)
			.run();
		const removed = await sweepRetention(uploadRetentionTargets(env, Date.now()));
		expect(removed.uploads_ended).toBeGreaterThanOrEqual(2);
		expect(await statusOf(oldTerminated.id)).toBeNull();
		expect(await statusOf(oldExpired.id)).toBeNull();
		// Ended 0 days ago, a complete file (the tenant's, kept until terminated), still uploading: kept.
		expect(await statusOf(recentTerminated.id)).toBe("terminated");
		expect(await statusOf(oldComplete.id)).toBe("complete");
		expect(await statusOf(unfinished.id)).toBe("uploading");
		expect((await tus("HEAD", oldComplete.path, apiKey)).status).toBe(200);
	});

	it("sweeps in bounded batches: at most batchSize × batchesPerTarget rows per run", async () => {
		const { apiKey } = await createTenant();
		const ids: string[] = [];
		for (let i = 0; i < 5; i++) {
			const u = await createUpload(apiKey, 100);
			expect((await tus("DELETE", u.path, apiKey)).status).toBe(204);
			await endedDaysAgo(u.id, 10 + i);
			ids.push(u.id);
		}
		const bounds = { batchSize: 2, batchesPerTarget: 1 };
		const targets = uploadRetentionTargets(env, Date.now());
		expect((await sweepRetention(targets, bounds)).uploads_ended).toBe(2);
		// Oldest first: the two that ended longest ago went.
		expect(await statusOf(ids[4] ?? "")).toBeNull();
		expect(await statusOf(ids[3] ?? "")).toBeNull();
		expect(await statusOf(ids[0] ?? "")).toBe("terminated");
	});

	it("clears an ended upload's object storage by its retention alarm (then 404, not 410)", async () => {
		const { apiKey } = await createTenant();
		const u = await createUpload(apiKey, PART_FREE_LENGTH);
		const stub = env.TUS_UPLOADS.getByName(u.id);
		expect(await runDurableObjectAlarm(stub)).toBe(true); // expiry
		expect((await tus("HEAD", u.path, apiKey)).status).toBe(410);
		const alarm = await runInDurableObject(stub, (_o, state) => state.storage.getAlarm());
		expect(alarm).toBeGreaterThan(Date.now() + 6 * DAY_MS);
		expect(await runDurableObjectAlarm(stub)).toBe(true); // retention
		// deleteAll() leaves the object's SQLite empty: not even its tables are left.
		const tables = await runInDurableObject(stub, (_o, state) =>
			state.storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'upload'").toArray(),
		);
		expect(tables).toEqual([]);
		expect((await tus("HEAD", u.path, apiKey)).status).toBe(404);
	});

	it("keeps a complete upload's object: no retention alarm is set for it", async () => {
		const { apiKey } = await createTenant();
		const u = await createUpload(apiKey, 10);
		expect((await patch(apiKey, u.path, 0, randomBytes(10))).status).toBe(204);
		expect(await runDurableObjectAlarm(env.TUS_UPLOADS.getByName(u.id))).toBe(false);
		expect((await tus("HEAD", u.path, apiKey)).status).toBe(200);
	});
});

const PART_FREE_LENGTH = 100;
