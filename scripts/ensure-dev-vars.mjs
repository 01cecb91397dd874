// Creates .dev.vars (local secrets, gitignored) from the committed example when it is missing.
import { copyFileSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export function ensureDevVars() {
	if (existsSync(".dev.vars")) return;
	copyFileSync(".dev.vars.example", ".dev.vars");
	console.log("Created .dev.vars from .dev.vars.example (local ADMIN_TOKEN).");
}

// Run as a script (`node scripts/ensure-dev-vars.mjs`, the first step of `npm test`).
if (process.argv[1] === fileURLToPath(import.meta.url)) ensureDevVars();
