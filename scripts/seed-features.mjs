// The feature panels' part of `npm run seed`: a small list and a campaign sent to it, a webhook
// endpoint (at an unresolvable `.example` host the destination policy allows, so its attempts fail
// and its health shows it), a report, and a recording from a tiny tus upload (its stages stay
// pending without a worker, which still draws the stage graph). Through the public API only.

const RECEIVER = "https://receiver.example/floodgate-demo";

/**
 * @param {string} base the platform's origin
 * @param {string} apiKey the demo tenant's key
 * @param {(method: string, path: string, body?: unknown, headers?: Record<string, string>, expect?: number[]) => Promise<{ status: number, body: any }>} tenant
 * @param {(line: string) => void} say
 */
export async function seedFeatures(base, apiKey, tenant, say) {
	const stamp = Date.now();
	const list = await tenant("POST", "/lists", { name: `demo list ${stamp}` }, {}, [201]);
	const listId = list.body.list_id;
	const subscribers = Array.from({ length: 5 }, (_, i) => ({ email: `demo${i}@example.com`, first_name: `Demo${i}` }));
	await tenant("POST", `/lists/${listId}/subscribers:import`, { subscribers }, {}, [200]);
	const campaign = await tenant(
		"POST",
		"/campaigns",
		{
			name: "Demo campaign",
			list_id: listId,
			from: "Demo <news@example.com>",
			subject: "Hello {{first_name}}",
			text: "Hi {{first_name}}. Unsubscribe: {{unsubscribe_url}}",
		},
		{},
		[201],
	);
	await tenant("POST", `/campaigns/${campaign.body.campaign_id}/send`, undefined, {}, [202]);
	say(`campaign ${campaign.body.campaign_id} sending to ${subscribers.length} addresses`);

	const endpoints = await tenant("GET", "/webhooks/endpoints?limit=100", undefined, {}, [200]);
	let endpoint = endpoints.body.endpoints.find((e) => e.url === RECEIVER);
	if (!endpoint) endpoint = (await tenant("POST", "/webhooks/endpoints", { url: RECEIVER }, {}, [201])).body;
	const test = await tenant("POST", `/webhooks/endpoints/${endpoint.id}/test`, undefined, {}, [200, 202, 409]);
	say(
		`webhook endpoint ${endpoint.id} → ${RECEIVER} (unresolvable: attempts fail${test.status === 409 ? "; disabled" : ""})`,
	);

	const day = (n) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
	const report = await tenant(
		"POST",
		"/reports",
		{ type: "job_latency", params: { from: day(2), to: day(0) } },
		{},
		[200, 201, 202],
	);
	say(`report ${report.body.report_id} (${report.body.status})`);

	const uploadId = await tinyUpload(base, apiKey);
	const recording = await tenant(
		"POST",
		"/recordings",
		{ meeting_id: `demo-${stamp}`, upload_id: uploadId, title: "Demo meeting" },
		{},
		[202],
	);
	say(`recording ${recording.body.recording_id} (stages wait for a worker)`);
}

/** A 2 KB tus upload (create, one PATCH); returns the upload's id. */
async function tinyUpload(base, apiKey) {
	const bytes = new Uint8Array(2048).map((_, i) => i % 251);
	const headers = { Authorization: `Bearer ${apiKey}`, "Tus-Resumable": "1.0.0" };
	const created = await fetch(`${base}/api/v1/uploads`, {
		method: "POST",
		headers: { ...headers, "Upload-Length": String(bytes.length), "Upload-Metadata": `filename ${btoa("demo.webm")}` },
	});
	await created.body?.cancel();
	const location = created.headers.get("Location");
	if (created.status !== 201 || !location) throw new Error(`POST /api/v1/uploads: ${created.status}`);
	const patched = await fetch(new URL(location, base), {
		method: "PATCH",
		headers: { ...headers, "Content-Type": "application/offset+octet-stream", "Upload-Offset": "0" },
		body: bytes,
	});
	await patched.body?.cancel();
	if (patched.status !== 204) throw new Error(`PATCH ${location}: ${patched.status}`);
	return new URL(location, base).pathname.split("/").pop();
}
