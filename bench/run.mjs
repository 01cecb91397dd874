// `npm run bench [scenario...]`: starts the platform locally, runs each scenario in bench/scenarios/
// (or the ones named, e.g. `npm run bench -- idempotency`), prints their figures and merges them
// into bench/results/latest.json (other scenarios' figures are kept). Every scenario reports ratios
// against a baseline it measures in the same run.
// A scenario module exports `run(context)` (its details; a `figures` object among them is merged
// into the flat figures), optionally `title`, `vars` (platform vars) and `platform = false` (no
// platform needed, e.g. the surge computed from the slot function).
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { adminClient, startPlatform } from "./lib/platform.mjs";
import { mergeResults } from "./lib/results.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const wanted = process.argv.slice(2);
const files = readdirSync(path.join(root, "bench", "scenarios"))
	.filter((f) => f.endsWith(".mjs"))
	.sort()
	.filter((f) => wanted.length === 0 || wanted.includes(f.replace(/^\d+-|\.mjs$/g, "")));

const port = Number(process.env.BENCH_PORT ?? 8790);
for (const file of files) {
	const scenario = await import(path.join(root, "bench", "scenarios", file));
	const name = file.replace(/^\d+-|\.mjs$/g, "");
	console.log(`\n== ${scenario.title ?? file} ==`);
	const platform = scenario.platform === false ? null : await startPlatform({ root, port, vars: scenario.vars ?? {} });
	try {
		const admin = adminClient(platform.url);
		const { figures = {}, ...details } =
			(await scenario.run({ url: platform?.url, admin, platform, log: console.log, root })) ?? {};
		// Resident memory of the workerd this run started, at the end of the scenario (issue 12 §5).
		const rss = platform === null ? null : platform.rssMb();
		if (rss !== null) console.log(`workerd resident memory at the end: ${rss} MB`);
		const rssFigure = rss === null ? {} : { [`${name.replaceAll("-", "_")}_workerd_rss_mb`]: rss };
		const merged = mergeResults(root, file, {
			details: { ...details, workerd_rss_mb: rss },
			figures: { ...figures, ...rssFigure },
		});
		console.log(
			`figures: ${JSON.stringify(Object.fromEntries(Object.keys(figures).map((k) => [k, merged.figures[k]])))}`,
		);
	} finally {
		await platform?.stop();
	}
}
console.log("\nMerged into bench/results/latest.json");
// A client library may keep a handle open (a socket, a timer): the bench stops by itself anyway.
process.exit(0);
