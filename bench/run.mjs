// `npm run bench [scenario...]`: starts the platform locally, runs each scenario in bench/scenarios/
// (or the ones named), prints their figures and writes them to bench/results/latest.json.
// Every scenario reports ratios against a baseline it measures in the same run.
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ADMIN_TOKEN, startPlatform } from "./lib/platform.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const wanted = process.argv.slice(2);
const files = readdirSync(path.join(root, "bench", "scenarios"))
	.filter((f) => f.endsWith(".mjs"))
	.sort()
	.filter((f) => wanted.length === 0 || wanted.includes(f.replace(/^\d+-|\.mjs$/g, "")));

const port = Number(process.env.BENCH_PORT ?? 8790);
const results = { at: new Date().toISOString(), node: process.version, scenarios: {} };
for (const file of files) {
	const scenario = await import(path.join(root, "bench", "scenarios", file));
	console.log(`\n== ${scenario.title ?? file} ==`);
	const platform = await startPlatform({ root, port, vars: scenario.vars ?? {} });
	try {
		const admin = (method, p, body) =>
			fetch(`${platform.url}/api/v1/admin${p}`, {
				method,
				headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
				body: body === undefined ? undefined : JSON.stringify(body),
			});
		results.scenarios[file] = await scenario.run({ url: platform.url, admin, platform, log: console.log });
	} finally {
		await platform.stop();
	}
}
mkdirSync(path.join(root, "bench", "results"), { recursive: true });
writeFileSync(path.join(root, "bench", "results", "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
console.log("\nWrote bench/results/latest.json");
