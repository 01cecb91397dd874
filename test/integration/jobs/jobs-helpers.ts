import { vi } from "vitest";
import { call, json, sleep } from "../helpers";
import type { Json } from "../helpers";

export async function post(token: string, path: string, body: unknown): Promise<Response> {
	return call("POST", `/api/v1${path}`, { token, body });
}

export async function getJob(token: string, id: string): Promise<Json> {
	return json(await call("GET", `/api/v1/jobs/${id}`, { token }));
}

/** Polls a job until `done` holds (the real queue consumer runs it in the background). */
export async function waitForJob(
	token: string,
	id: string,
	done: (job: Json) => boolean,
	timeoutMs = 15_000,
): Promise<Json> {
	const until = Date.now() + timeoutMs;
	for (;;) {
		const job = await getJob(token, id);
		if (done(job)) return job;
		if (Date.now() > until) throw new Error(`job ${id} stuck: ${JSON.stringify(job)}`);
		await sleep(100);
	}
}

export async function enqueue(token: string, spec: Record<string, unknown>): Promise<string> {
	const res = await post(token, "/jobs", spec);
	if (res.status !== 202) throw new Error(`enqueue failed: ${res.status} ${await res.text()}`);
	return String((await json(res)).job_id);
}

/** A request the intercepted outbound fetch saw. */
export type Seen = { url: string; headers: Headers; body: string };

/**
 * Intercepts the Worker's outbound fetch to `https://receiver.example/` (third-party HTTP);
 * everything else stays real. Restore with vi.restoreAllMocks().
 */
export function interceptOutbound(respond: (req: Request) => Promise<Response>): Seen[] {
	const seen: Seen[] = [];
	const real = globalThis.fetch;
	vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
		const req = new Request(input, init);
		if (!req.url.startsWith("https://receiver.example/")) return real(input, init);
		// Read here: bodies belong to the consumer's I/O context, not the test's.
		seen.push({ url: req.url, headers: new Headers(req.headers), body: await req.clone().text() });
		return respond(req);
	});
	return seen;
}
