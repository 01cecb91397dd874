import { describe, expect, it } from "vitest";
import { call, createTenant, sleep } from "../helpers";
import type { ErrorJson } from "./lock-helpers";
import {
	errorCode,
	mustAcquire,
	mustRelease,
	readGuarded,
	release,
	renew,
	uniqueLock,
	writeGuarded,
} from "./lock-helpers";

describe("the fenced resource", () => {
	it("replays Kleppmann's scenario: a client paused past its lease cannot overwrite the next holder's write", async () => {
		const { apiKey } = await createTenant();
		const name = uniqueLock("storage");
		// 32 earlier grants, so client 1's is token 33 as in the article.
		for (let i = 0; i < 32; i++) {
			await mustRelease(apiKey, name, await mustAcquire(apiKey, name, { owner: `warm-${i}`, ttl_ms: 1000 }));
		}
		const client1 = await mustAcquire(apiKey, name, { owner: "client-1", ttl_ms: 100 });
		expect(client1.token).toBe(33);

		// Client 1 pauses (a GC pause, a stopped VM) past its lease; the lock expires.
		await sleep(client1.expires_at - Date.now() + 30);
		const client2 = await mustAcquire(apiKey, name, { owner: "client-2", ttl_ms: 10_000, wait_ms: 5000 });
		expect(client2.token).toBe(34);
		const write2 = await writeGuarded(apiKey, name, "file", client2.token, { by: "client-2" });
		expect(write2.status).toBe(200);
		expect(await write2.json()).toEqual({ name, key: "file", token: 34 });

		// Client 1 wakes up, still believing it holds the lock, and writes with its old token.
		const write1 = await writeGuarded(apiKey, name, "file", client1.token, { by: "client-1" });
		expect(write1.status).toBe(409);
		const refused = await write1.json<ErrorJson>();
		expect(refused.error.code).toBe("fenced");
		expect(refused.error.details).toEqual({ highest_token: 34 });

		const stored = await readGuarded(apiKey, name, "file");
		expect(stored.status).toBe(200);
		expect(await stored.json()).toEqual({ name, key: "file", value: { by: "client-2" }, token: 34 });
		// Its lease is gone too: it can neither renew it nor release client 2's.
		expect(await errorCode(await renew(apiKey, name, { owner: "client-1", token: 33, ttl_ms: 1000 }))).toBe(
			"stale_token",
		);
		expect(await (await release(apiKey, name, "client-1", 33)).json()).toMatchObject({ released: false });
		expect(await errorCode(await release(apiKey, name, "client-1", 34))).toBe("not_owner");
	});

	it("accepts repeated writes under the same token and refuses tokens the lock never issued", async () => {
		const { apiKey } = await createTenant();
		const name = uniqueLock();
		const grant = await mustAcquire(apiKey, name, { owner: "a", ttl_ms: 5000 });
		expect((await writeGuarded(apiKey, name, "k", grant.token, 1)).status).toBe(200);
		expect((await writeGuarded(apiKey, name, "k", grant.token, [2, "two"])).status).toBe(200);
		expect(await (await readGuarded(apiKey, name, "k")).json()).toMatchObject({ value: [2, "two"], token: 1 });

		const forged = await writeGuarded(apiKey, name, "k", 1_000_000, "mine forever");
		expect(forged.status).toBe(409);
		expect(await forged.json()).toMatchObject({ error: { code: "unknown_token", details: { last_token: 1 } } });
		expect(await (await readGuarded(apiKey, name, "other")).json()).toMatchObject({ error: { code: "unknown_key" } });
	});

	it("answers 400 without a valid Fencing-Token or value", async () => {
		const { apiKey } = await createTenant();
		const name = uniqueLock();
		const path = `/api/v1/locks/${name}/guarded/k`;
		const cases: { headers: Record<string, string>; body: unknown }[] = [
			{ headers: {}, body: { value: 1 } },
			{ headers: { "Fencing-Token": "0" }, body: { value: 1 } },
			{ headers: { "Fencing-Token": "abc" }, body: { value: 1 } },
			{ headers: { "Fencing-Token": "1" }, body: {} },
			{ headers: { "Fencing-Token": "1" }, body: { value: 1, extra: true } },
		];
		for (const { headers, body } of cases) {
			const res = await call("PUT", path, { token: apiKey, headers, body });
			expect(res.status, JSON.stringify({ headers, body })).toBe(400);
			expect(await errorCode(res)).toBe("validation_failed");
		}
	});
});
