import { describe, expect, it } from "vitest";
import { call, createTenant } from "../helpers";
import type { Json } from "../helpers";
import { N, channel, getNotification, putTemplate, send, waitForNotification } from "./notifications-helpers";

const inApp = (user: string, extra: Json = {}): Json => ({
	recipient: { user_id: user },
	channels: ["in_app"],
	...extra,
});

async function putPreferences(apiKey: string, user: string, prefs: Json): Promise<Response> {
	return call("PUT", `${N}/users/${user}/preferences`, { token: apiKey, body: prefs });
}

/** Quiet hours in UTC from an hour ago to two hours ahead (so "now" is inside them). */
function quietNow(): { start: string; end: string; time_zone: string } {
	const hour = new Date().getUTCHours();
	const hh = (h: number) => `${String((h + 24) % 24).padStart(2, "0")}:00`;
	return { start: hh(hour - 1), end: hh(hour + 2), time_zone: "UTC" };
}

describe("preferences", () => {
	it("stores preferences per user and tenant, and rejects an unknown time zone", async () => {
		const a = await createTenant("a");
		const b = await createTenant("b");
		const prefs = { channels: { email: false }, categories: { orders: { in_app: false } }, quiet_hours: null };
		expect((await putPreferences(a.apiKey, "u1", prefs)).status).toBe(200);
		expect(await (await call("GET", `${N}/users/u1/preferences`, { token: a.apiKey })).json()).toEqual(prefs);
		const theirs = await call("GET", `${N}/users/u1/preferences`, { token: b.apiKey });
		expect(await theirs.json()).toEqual({ channels: {}, categories: {}, quiet_hours: null });
		const bad = await putPreferences(a.apiKey, "u1", {
			quiet_hours: { start: "22:00", end: "07:00", time_zone: "Mars/Base" },
		});
		expect(bad.status).toBe(400);
	});

	it("suppresses a channel the user opted out of for the category, and critical bypasses it", async () => {
		const { apiKey } = await createTenant();
		await putTemplate(apiKey);
		await putPreferences(apiKey, "u-out", { categories: { orders: { in_app: false } } });
		const normal = await send(apiKey, inApp("u-out"));
		const view = await getNotification(apiKey, normal);
		expect(channel(view, "in_app")).toMatchObject({
			status: "suppressed",
			reason: "the user opted out of in_app for orders",
		});
		const critical = await send(apiKey, inApp("u-out", { priority: "critical" }));
		await waitForNotification(apiKey, critical, (v) => channel(v, "in_app")?.status === "delivered");
		const inbox = await call("GET", `${N}/users/u-out/inbox`, { token: apiKey });
		expect((await inbox.json<{ items: { id: string }[] }>()).items.map((i) => i.id)).toEqual([critical]);
	});

	it("delays a non-critical send to the end of the user's quiet hours; critical goes now", async () => {
		const { apiKey } = await createTenant();
		await putTemplate(apiKey);
		const quiet = quietNow();
		await putPreferences(apiKey, "u-quiet", { quiet_hours: quiet });
		const delayed = await send(apiKey, inApp("u-quiet"));
		const view = await getNotification(apiKey, delayed);
		const due = Date.parse(channel(view, "in_app")?.deliver_at ?? "");
		expect(due - Date.now()).toBeGreaterThan(55 * 60_000);
		expect(new Date(due).getUTCHours()).toBe(Number(quiet.end.slice(0, 2)));
		expect(channel(view, "in_app")).toMatchObject({
			status: "queued",
			reason: "delayed to the end of the user's quiet hours",
		});
		const critical = await send(apiKey, inApp("u-quiet", { priority: "critical" }));
		await waitForNotification(apiKey, critical, (v) => channel(v, "in_app")?.status === "delivered");
		expect(channel(await getNotification(apiKey, delayed), "in_app")?.status).toBe("queued");
	});

	it("throttles a user's channel above the per-user rate limit (3 an hour in the tests)", async () => {
		const { apiKey } = await createTenant();
		await putTemplate(apiKey);
		const ids: string[] = [];
		for (let i = 0; i < 4; i++) {
			const id = await send(apiKey, inApp("u-rate"));
			ids.push(id);
			await waitForNotification(apiKey, id, (v) =>
				["delivered", "throttled"].includes(channel(v, "in_app")?.status ?? ""),
			);
		}
		const statuses = await Promise.all(ids.map(async (id) => channel(await getNotification(apiKey, id), "in_app")));
		expect(statuses.map((s) => s?.status)).toEqual(["delivered", "delivered", "delivered", "throttled"]);
		expect(statuses[3]?.reason).toMatch(/over 3 in_app notifications per hour/);
		// Another user's channel has its own limit.
		const other = await send(apiKey, inApp("u-rate-2"));
		await waitForNotification(apiKey, other, (v) => channel(v, "in_app")?.status === "delivered");
	});
});
