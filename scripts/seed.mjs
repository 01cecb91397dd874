// `npm run seed [-- --url http://127.0.0.1:8787]`: a demo tenant for the dashboard, through the public
// API of a running platform (`npm start`) only: vending machines with slots and a night's reports,
// trucks with positions, payments (succeeded and declined), jobs in several states (completed,
// queued, dead = dead letters), and the feature panels' data (scripts/seed-features.mjs: a campaign,
// a webhook endpoint, a report, a recording). Prints the tenant's
// API key. Running it again reuses the tenant (a new key is issued: keys are shown only once) and
// the devices, and adds more jobs and payments.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseEnv } from "node:util";
import { seedFeatures } from "./seed-features.mjs";

const TENANT = "demo";
const MACHINES = 12;
const TRUCKS = 3;
const JOB_TYPE = "demo-render";

/**
 * Seeds `base` (the platform's origin) with the admin token; returns the demo tenant and its new key.
 * @param {string} base
 * @param {string} adminToken
 * @param {(line: string) => void} [say]
 * @returns {Promise<{ tenantId: string, apiKey: string }>}
 */
export async function seed(base, adminToken, say = () => {}) {
	const call = client(base);
	const admin = (method, path, body, headers, expect) =>
		call(method, `/api/v1/admin${path}`, adminToken, body, headers, expect);
	const { tenantId, apiKey } = await demoTenant(admin);
	say(`tenant ${TENANT} (${tenantId})`);
	const tenant = (method, path, body, headers, expect) => call(method, `/api/v1${path}`, apiKey, body, headers, expect);

	const today = new Date().toISOString().slice(0, 10);
	for (let i = 1; i <= MACHINES; i++) {
		const id = `vm-${String(i).padStart(3, "0")}`;
		await tenant(
			"POST",
			"/devices",
			{ device_id: id, kind: "vending", timezone: "UTC", city: i % 2 ? "Oslo" : "Lyon" },
			{},
			[201, 409],
		);
		// Two machines of twelve stay silent: the dashboard's "missed" figure.
		if (i > MACHINES - 2) continue;
		const inventory = ["A1", "A2", "B1", "B2"].map((slot, s) => ({
			slot,
			sku: `sku-${s}`,
			count: (i * 7 + s * 3) % 20,
			capacity: 20,
		}));
		const report = {
			report_date: today,
			inventory,
			cash_cents: 1000 * i,
			temperature_c: 4 + (i % 3),
			error_codes: [],
			firmware: "1.4.2",
		};
		await tenant("POST", `/machines/${id}/reports`, report, {}, [202]);
	}
	say(`${MACHINES} vending machines, ${MACHINES - 2} reports`);
	const now = Date.now();
	const points = [];
	for (let t = 1; t <= TRUCKS; t++) {
		const truck = `truck-${t}`;
		await tenant(
			"POST",
			"/devices",
			{ device_id: truck, kind: "truck", timezone: "UTC", city: "Oslo" },
			{},
			[201, 409],
		);
		for (let k = 0; k < 10; k++)
			points.push({
				truck_id: truck,
				lat: 59.9 + t * 0.01 + k * 0.001,
				lng: 10.7 + k * 0.002,
				speed_kmh: 30 + k,
				recorded_at: new Date(now - (10 - k) * 60_000).toISOString(),
			});
	}
	await tenant("POST", "/location/batch", { points }, {}, [202]);
	say(`${TRUCKS} trucks, ${points.length} positions`);

	let paid = 0;
	for (let p = 0; p < 8; p++) {
		const card = p % 4 === 3 ? "tok_declined" : "tok_visa";
		const body = {
			machine_id: "vm-001",
			amount_cents: 250,
			currency: "EUR",
			card_token: card,
			items: [{ slot: "A1", sku: "sku-0", quantity: 1, price_cents: 250 }],
		};
		const res = await tenant("POST", "/payments", body, { "Idempotency-Key": `seed-${now}-${p}` }, [201, 402]);
		if (res.status === 201) paid++;
	}
	say(`payments: ${paid} succeeded, ${8 - paid} declined`);

	await tenant("PUT", `/job-types/${JOB_TYPE}`, { mode: "external" }, {}, [200]);
	const created = [];
	for (let j = 0; j < 10; j++)
		created.push(
			(await tenant("POST", "/jobs", { type: JOB_TYPE, payload: { frame: j }, max_retries: 1 }, {}, [202])).body.job_id,
		);
	for (let j = 0; j < 5; j++) await tenant("POST", "/jobs", { type: "noop", payload: { n: j } }, {}, [202]);
	let completed = 0;
	let dead = 0;
	for (let j = 0; j < 8; j++) {
		const claim = await tenant("POST", "/jobs/claim", { worker_id: "seed", types: [JOB_TYPE] }, {}, [200, 204]);
		if (claim.status === 204) break;
		const id = claim.body.job_id;
		if (j % 3 === 2) {
			await tenant("POST", `/jobs/${id}/fail`, { worker_id: "seed", error: "frame corrupt", retry: false }, {}, [200]);
			dead++;
		} else {
			await tenant("POST", `/jobs/${id}/complete`, { worker_id: "seed", result: { ok: true } }, {}, [200]);
			completed++;
		}
	}
	say(`jobs: ${created.length} ${JOB_TYPE} (${completed} completed, ${dead} dead, the rest queued) and 5 noop`);

	await seedFeatures(base, apiKey, tenant, say);
	return { tenantId, apiKey };
}

/** The demo tenant (found by name, else created) and a fresh API key for it. */
async function demoTenant(admin) {
	let cursor = "";
	for (let page = 0; page < 50; page++) {
		const list = await admin("GET", `/tenants?limit=200${cursor ? `&cursor=${cursor}` : ""}`, undefined, {}, [200]);
		const found = list.body.tenants.find((t) => t.name === TENANT);
		if (found) {
			const key = await admin("POST", `/tenants/${found.tenant_id}/keys`, { name: `seed-${Date.now()}` }, {}, [201]);
			return { tenantId: found.tenant_id, apiKey: key.body.api_key };
		}
		if (!list.body.next_cursor) break;
		cursor = list.body.next_cursor;
	}
	const created = await admin("POST", "/tenants", { name: TENANT }, {}, [201]);
	return { tenantId: created.body.tenant_id, apiKey: created.body.api_key };
}

function client(base) {
	return async (method, path, token, body, headers = {}, expect = [200]) => {
		const res = await fetch(`${base}${path}`, {
			method,
			headers: {
				Authorization: `Bearer ${token}`,
				...(body === undefined ? {} : { "Content-Type": "application/json" }),
				...headers,
			},
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		const text = await res.text();
		if (!expect.includes(res.status)) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
		return { status: res.status, body: text ? JSON.parse(text) : null };
	};
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
	const args = process.argv.slice(2);
	const at = args.indexOf("--url");
	const base = (at >= 0 ? args[at + 1] : undefined) ?? process.env.FLOODGATE_URL ?? "http://127.0.0.1:8787";
	const adminToken = process.env.ADMIN_TOKEN ?? parseEnv(readFileSync(".dev.vars", "utf8")).ADMIN_TOKEN;
	try {
		const { apiKey } = await seed(base, adminToken, (line) => console.log(`[seed] ${line}`));
		console.log(`[seed] done. The demo tenant's API key (shown once): ${apiKey}`);
		console.log(`[seed] dashboard: ${base}/  (log in with that key, or the admin token for platform figures)`);
	} catch (err) {
		console.error(`[seed] failed against ${base}: ${err instanceof Error ? err.message : String(err)}`);
		console.error("[seed] is the platform running? Start it with `npm start`.");
		process.exit(1);
	}
}
