// `npm start`: local secrets, local D1 migrations (no prompt), then the platform on 127.0.0.1:8787.
import { spawnSync } from "node:child_process";
import { ensureDevVars } from "./ensure-dev-vars.mjs";

ensureDevVars();

const wrangler = (args, extraEnv = {}) =>
	spawnSync("wrangler", args, {
		stdio: "inherit",
		shell: process.platform === "win32",
		env: { ...process.env, ...extraEnv },
	});

// CI=true makes wrangler take the default "yes" instead of asking before applying migrations.
const migrated = wrangler(["d1", "migrations", "apply", "DB", "--local"], { CI: "true" });
if (migrated.status !== 0) process.exit(migrated.status ?? 1);
const dev = wrangler(["dev", ...process.argv.slice(2)]);
process.exit(dev.status ?? 0);
