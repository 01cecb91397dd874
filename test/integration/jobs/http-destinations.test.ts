import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { app } from "../../../src/index";
import { MAX_RESPONSE_BYTES } from "../../../src/jobs/handlers/http";
import { BASE, call, createTenant, json } from "../helpers";
import type { Json } from "../helpers";
import { enqueue, post, waitForJob } from "./jobs-helpers";

afterEach(() => vi.restoreAllMocks());

/** Every URL the Worker fetched; `https://receiver.example/` answered by `respond`, the rest refused loudly. */
function recordOutbound(respond: (req: Request) => Response): string[] {
	const urls: string[] = [];
	vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
		const req = new Request(input, init);
		urls.push(req.url);
		if (!req.url.startsWith("https://receiver.example/")) return new Response("must not be fetched", { status: 599 });
		return respond(req);
	});
	return urls;
}

const INSIDE = [
	"https://127.0.0.1/",
	"https://localhost/admin",
	"https://10.0.0.8/",
	"https://192.168.1.1/",
	"https://100.64.0.1/",
	"https://169.254.169.254/latest/meta-data/",
	"http://169.254.169.254/latest/meta-data/",
	"https://metadata.google.internal/computeMetadata/v1/",
	"https://2130706433/",
	"https://0x7f.1/",
	"https://[::1]/",
	"https://[::ffff:169.254.169.254]/",
	"https://[fd00::1]/",
	"https://0.0.0.0/",
];

async function jobCount(apiKey: string): Promise<number> {
	return ((await json(await call("GET", "/api/v1/jobs", { token: apiKey }))).jobs as unknown[]).length;
}

describe("http job destinations (SSRF)", () => {
	it("refuses private, loopback, link-local, metadata and reserved URLs at enqueue with 400, writing nothing", async () => {
		const { apiKey } = await createTenant();
		for (const url of INSIDE) {
			const res = await post(apiKey, "/jobs", { type: "http", payload: { url, body: "x" } });
			expect(res.status, url).toBe(400);
			const body = await json(res);
			expect(body, url).toMatchObject({
				error: { code: "destination_not_allowed", details: { index: 0, reason: expect.any(String) } },
			});
		}
		expect(await jobCount(apiKey)).toBe(0);
	});

	it("refuses a bulk enqueue with one bad URL as a whole, naming its index", async () => {
		const { apiKey } = await createTenant();
		const res = await post(apiKey, "/jobs/bulk", {
			jobs: [
				{ type: "http", payload: { url: "https://receiver.example/ok" } },
				{ type: "http", payload: { url: "https://169.254.169.254/" } },
			],
		});
		expect(res.status).toBe(400);
		expect(await json(res)).toMatchObject({ error: { code: "destination_not_allowed", details: { index: 1 } } });
		expect(await jobCount(apiKey)).toBe(0);
	});

	it("refuses a schedule whose http job points inside, writing nothing", async () => {
		const { apiKey } = await createTenant();
		const res = await post(apiKey, "/schedules", {
			cron: "* * * * *",
			job: { type: "http", payload: { url: "https://10.1.2.3/cron" } },
		});
		expect(res.status).toBe(400);
		expect(await json(res)).toMatchObject({ error: { code: "destination_not_allowed" } });
		const listed = await json(await call("GET", "/api/v1/schedules", { token: apiKey }));
		expect(listed.schedules).toEqual([]);
	});

	it("allows http to loopback only with OUTBOUND_ALLOW_LOOPBACK_HTTP, and refuses the platform's own hosts", async () => {
		const { apiKey } = await createTenant();
		expect(env.OUTBOUND_ALLOW_LOOPBACK_HTTP).toBe("true");
		const local = { type: "http", max_retries: 0, delay_seconds: 3600, payload: { url: "http://127.0.0.1:9/hook" } };
		expect((await post(apiKey, "/jobs", local)).status).toBe(202);
		const strict = {
			...env,
			OUTBOUND_ALLOW_LOOPBACK_HTTP: "false",
			PLATFORM_HOSTS: "api.floodgate.example, floodgate.workers.dev",
		};
		const send = (body: unknown) =>
			app.fetch(
				new Request(`${BASE}/api/v1/jobs`, {
					method: "POST",
					headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
					body: JSON.stringify(body),
				}),
				strict,
				createExecutionContext(),
			);
		expect((await send(local)).status).toBe(400);
		const own = await send({ type: "http", payload: { url: "https://FLOODGATE.workers.dev/api/v1/admin/tenants" } });
		expect(own.status).toBe(400);
		expect(await json(own)).toMatchObject({ error: { details: { reason: "the platform's own host" } } });
	});

	it("fails the attempt for good when the receiver redirects inside, and never fetches there", async () => {
		const urls = recordOutbound(
			() => new Response(null, { status: 302, headers: { Location: "http://169.254.169.254/latest/meta-data/" } }),
		);
		const { apiKey } = await createTenant();
		const id = await enqueue(apiKey, {
			type: "http",
			max_retries: 3,
			payload: { url: "https://receiver.example/redirect", body: "x" },
		});
		const job = await waitForJob(apiKey, id, (j) => j.status === "dead");
		expect(job.attempts).toBe(1);
		expect(String(job.error)).toContain("destination not allowed");
		expect(urls).toEqual(["https://receiver.example/redirect"]);
	});

	it("keeps the first 4 KB of an oversized answer, reading no further than that", async () => {
		let pulled = 0;
		recordOutbound(
			() =>
				new Response(
					// An endless answer: only a capped, streamed read can finish.
					new ReadableStream<Uint8Array>({
						pull(controller) {
							pulled++;
							controller.enqueue(new TextEncoder().encode("a".repeat(1_000)));
						},
					}),
				),
		);
		const { apiKey } = await createTenant();
		const id = await enqueue(apiKey, { type: "http", payload: { url: "https://receiver.example/huge", body: "x" } });
		const job = await waitForJob(apiKey, id, (j) => j.status === "completed");
		const result = job.result as Json;
		expect(result).toMatchObject({ status: 200, truncated: true });
		expect(String(result.body)).toHaveLength(MAX_RESPONSE_BYTES);
		expect(pulled).toBeLessThan(20);
	});
});
