// Creates .dev.vars (local settings and secrets, gitignored) from the committed example when it is
// missing, and appends the example's keys an older .dev.vars lacks (a value already set is kept).
import { appendFileSync, copyFileSync, existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export function ensureDevVars() {
	if (!existsSync(".dev.vars")) {
		copyFileSync(".dev.vars.example", ".dev.vars");
		console.log("Created .dev.vars from .dev.vars.example (local settings and secrets).");
		return;
	}
	const present = new Set(entries(readFileSync(".dev.vars", "utf8")).map(([key]) => key));
	const missing = entries(readFileSync(".dev.vars.example", "utf8")).filter(([key]) => !present.has(key));
	if (missing.length === 0) return;
	appendFileSync(".dev.vars", `\n${missing.map(([, line]) => line).join("\n")}\n`);
	console.log(`Added to .dev.vars from .dev.vars.example: ${missing.map(([key]) => key).join(", ")}.`);
}

/** [key, line] of each `KEY=value` line (comments and blank lines skipped). */
function entries(text) {
	return text
		.split("\n")
		.map((line) => [/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line)?.[1], line])
		.filter(([key]) => key !== undefined);
}

// Run as a script (`node scripts/ensure-dev-vars.mjs`, the first step of `npm test`).
if (process.argv[1] === fileURLToPath(import.meta.url)) ensureDevVars();
