// bench/results/latest.json: a flat `figures` object (the names of issue 12 and any a scenario
// adds) beside each scenario's details. Every run merges into the file: a scenario run alone
// replaces its own details and figures and keeps every other scenario's.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

/** The figure names the report format promises (null until a run measured them). */
export const FIGURE_NAMES = [
	"gateway_ratio",
	"gateway_min_round",
	"idempotency_fresh_ratio",
	"idempotency_replay_ratio",
	"idempotency_distinct_keys",
	"ingest_accepted_ratio",
	"ingest_success_pct",
	"ingest_p99_ms_500_clients",
	"jobs_ratio_bullmq",
	"jobs_per_s",
	"surge_peak_mean_1k",
	"surge_peak_mean_10k",
	"surge_peak_mean_100k",
];

export function resultsPath(root) {
	return path.join(root, "bench", "results", "latest.json");
}

/** Reads latest.json in the current shape (older files without `figures` keep their scenarios). */
export function readResults(root) {
	const file = resultsPath(root);
	const empty = { figures: Object.fromEntries(FIGURE_NAMES.map((n) => [n, null])), scenarios: {} };
	if (!existsSync(file)) return empty;
	const old = JSON.parse(readFileSync(file, "utf8"));
	return { ...old, figures: { ...empty.figures, ...old.figures }, scenarios: old.scenarios ?? {} };
}

/**
 * Merges one scenario's `details` and `figures` into latest.json (other scenarios untouched) and
 * returns the merged file. `key` names the scenario (its file name, e.g. "20-idempotency.mjs").
 */
export function mergeResults(root, key, { details, figures = {} }) {
	const results = readResults(root);
	results.at = new Date().toISOString();
	results.node = process.version;
	results.scenarios[key] = { at: results.at, ...details };
	results.figures = { ...results.figures, ...figures };
	mkdirSync(path.dirname(resultsPath(root)), { recursive: true });
	writeFileSync(resultsPath(root), `${JSON.stringify(results, null, 2)}\n`);
	return results;
}
