// Bytes per term and per word key of the autocomplete's in-memory index (src/search/prefix-index.ts),
// measured in Node (V8 heap, not workerd): `node --expose-gc scripts/search-memory.mjs [terms]`.
// Terms are built like bench/scenarios/84-autocomplete.mjs (two syllable words), each put in one
// PrefixIndex that owns all keys, then sorted by a first suggest, as a shard does after an import.
import { build } from "esbuild";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const TERMS = Number(process.argv[2] ?? 100_000);
const SYLLABLES = ["ka", "mon", "ri", "te", "sa", "lo", "ven", "du", "pa", "shi", "ber", "na", "go", "li", "tor", "me"];

function word(n) {
	let out = "";
	let rest = n;
	do {
		out += SYLLABLES[rest % SYLLABLES.length];
		rest = Math.floor(rest / SYLLABLES.length);
	} while (rest > 0 || out.length < 4);
	return out;
}

const dir = mkdtempSync(join(tmpdir(), "search-memory-"));
const out = join(dir, "prefix-index.mjs");
await build({
	entryPoints: ["src/search/prefix-index.ts"],
	bundle: true,
	format: "esm",
	outfile: out,
	logLevel: "error",
});
const { PrefixIndex } = await import(pathToFileURL(out).href);
rmSync(dir, { recursive: true });

// Rows as a shard reads them, built before the baseline is taken (lowercase: text is norm, one string).
const rows = Array.from({ length: TERMS }, (_, i) => {
	const text = `${word((i * 7919) % 5000)} ${word(i)}`;
	return { norm: text, text, weight: i % 1000, popularity: 0 };
});
globalThis.gc?.();
const before = process.memoryUsage().heapUsed;
const index = new PrefixIndex();
for (const row of rows) index.put(row);
index.suggest("ka", 10);
rows.length = 0;
globalThis.gc?.();
const bytes = process.memoryUsage().heapUsed - before;
console.log(
	`${TERMS} terms, ${index.keyCount} word keys: ${(bytes / 1e6).toFixed(1)} MB of V8 heap (Node ${process.version}), ` +
		`${Math.round(bytes / TERMS)} B/term, ${Math.round(bytes / index.keyCount)} B/key`,
);
