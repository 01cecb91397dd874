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
