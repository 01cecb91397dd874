// Bundles the TypeScript device client and slot functions for Node (they use extensionless imports).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";

/** Imports `entry` (a .ts file under `root`) as an ES module bundle. */
export async function importTs(root, entry) {
	const dir = mkdtempSync(path.join(tmpdir(), "floodgate-sim-"));
	const outfile = path.join(dir, `${path.basename(entry, ".ts")}.mjs`);
	try {
		await build({
			entryPoints: [path.join(root, entry)],
			bundle: true,
			format: "esm",
			platform: "neutral",
			outfile,
			logLevel: "error",
		});
		return await import(pathToFileURL(outfile).href);
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}
