// `npm run openapi`: writes the OpenAPI document to dist/openapi.json, as the running app serves it
// (the Worker is started locally through wrangler's API, asked for GET /api/v1/openapi.json, and
// stopped). `--lint` then lints it with Redocly (redocly.yaml), as `npm test` does.
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { unstable_startWorker } from "wrangler";

const OUT = "dist/openapi.json";

const worker = await unstable_startWorker({
	config: "wrangler.toml",
	dev: { server: { port: 0 }, inspector: false, watch: false, logLevel: "warn" },
});
try {
	const res = await worker.fetch("http://localhost/api/v1/openapi.json");
	if (res.status !== 200) throw new Error(`GET /api/v1/openapi.json answered ${res.status}: ${await res.text()}`);
	const doc = await res.json();
	mkdirSync("dist", { recursive: true });
	writeFileSync(OUT, `${JSON.stringify(doc, null, "\t")}\n`);
	console.log(`wrote ${OUT}: ${Object.keys(doc.paths).length} paths`);
} finally {
	await worker.dispose();
}

if (process.argv.includes("--lint")) {
	// Like wrangler's send_metrics = false: no usage telemetry from CI or dev machines.
	const lint = spawnSync("redocly", ["lint", OUT], {
		stdio: "inherit",
		shell: process.platform === "win32",
		env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
	});
	process.exit(lint.status ?? 1);
}
