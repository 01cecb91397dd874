// Reads a V8 .cpuprofile (what the DevTools Protocol's Profiler.stop returns) into shares of CPU:
// self time by function and by source file, and "on the stack" (inclusive) time by source file.
// Frames in the Worker bundle are mapped back to src/… and node_modules/… through the bundle's
// source map (wrangler's dry run writes dist/index.js.map); Node 22's module.SourceMap reads it.
import { readFileSync } from "node:fs";
import { SourceMap } from "node:module";

// V8's pseudo-frames: the isolate waiting for work, collecting garbage, or in the runtime's own
// code (workerd's C++ between JavaScript calls, including I/O and serialization it does natively).
const PSEUDO = new Set(["(idle)", "(garbage collector)", "(program)", "(root)"]);

/** Loads a source map for the bundle at `scriptPath` (expects `${scriptPath}.map`); null if absent. */
export function loadSourceMap(scriptPath) {
	try {
		return new SourceMap(JSON.parse(readFileSync(`${scriptPath}.map`, "utf8")));
	} catch {
		return null;
	}
}

/**
 * Summarises a profile. `bundleName` is the bundle's file name (frames whose url ends with it are
 * mapped through `sourceMap`).
 * @returns {{ samples: number, ms: number, pseudo: Record<string, number>, functions: Row[], files: Row[], stackFiles: Row[] }}
 * where a Row is { name, samples, pct } and pct is a share of every sample (idle included) for
 * pseudo and of the busy (non-idle) samples for the rest.
 */
export function summarise(profile, { sourceMap, bundleName = "index.js" }) {
	const byId = new Map(profile.nodes.map((n) => [n.id, n]));
	const parent = new Map();
	for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
	const cache = new Map();
	const locate = (node) => {
		if (cache.has(node.id)) return cache.get(node.id);
		const { functionName, url, lineNumber, columnNumber } = node.callFrame;
		const name = functionName || "(anonymous)";
		let where;
		if (PSEUDO.has(name)) where = { fn: name, file: name, pseudo: true };
		else if (sourceMap && url.endsWith(bundleName)) {
			const entry = sourceMap.findEntry(lineNumber, columnNumber);
			const source = entry?.originalSource ?? url;
			const file = tidyPath(source);
			const line = entry?.originalLine === undefined ? "" : `:${entry.originalLine + 1}`;
			where = { fn: `${name} ${tidyPath(source, { whole: true })}${line}`, file };
		} else if (url === "") {
			// A native function (a V8 builtin or a workerd API: JSON.parse, crypto.subtle, Response…):
			// named with the JavaScript frame that called it, and charged to that frame's file.
			const caller = callerOf(node);
			where = {
				fn: `${name} (native, from ${caller?.fn ?? "the runtime"})`,
				file: caller ? `${caller.file} (natives it calls)` : "(native)",
			};
		} else {
			// workerd's built-in JavaScript modules (node:*, cloudflare:*).
			const file = tidyPath(url);
			where = { fn: `${name} ${file}`, file };
		}
		cache.set(node.id, where);
		return where;
	};

	function callerOf(node) {
		for (let at = byId.get(parent.get(node.id)); at !== undefined; at = byId.get(parent.get(at.id))) {
			if (at.callFrame.url === "") continue;
			const here = locate(at);
			return here.pseudo ? null : here;
		}
		return null;
	}

	const pseudo = {};
	const selfFn = new Map();
	const selfFile = new Map();
	const stackFile = new Map();
	let busy = 0;
	for (const id of profile.samples) {
		const node = byId.get(id);
		const here = locate(node);
		if (here.pseudo) {
			pseudo[here.fn] = (pseudo[here.fn] ?? 0) + 1;
			continue;
		}
		busy++;
		bump(selfFn, here.fn);
		bump(selfFile, here.file);
		const seen = new Set();
		for (let at = node; at !== undefined; at = byId.get(parent.get(at.id))) {
			const { file, pseudo: isPseudo } = locate(at);
			if (!isPseudo && !seen.has(file)) {
				seen.add(file);
				bump(stackFile, file);
			}
		}
	}
	const total = profile.samples.length;
	const rows = (map) =>
		[...map.entries()]
			.map(([name, samples]) => ({ name, samples, pct: round((samples / Math.max(1, busy)) * 100) }))
			.sort((a, b) => b.samples - a.samples || a.name.localeCompare(b.name));
	pseudo["(busy: JavaScript and what it calls)"] = busy;
	return {
		samples: total,
		ms: round((profile.endTime - profile.startTime) / 1000),
		pseudo: Object.fromEntries(
			Object.entries(pseudo).map(([k, v]) => [k, { samples: v, pct: round((v / Math.max(1, total)) * 100) }]),
		),
		functions: rows(selfFn),
		files: rows(selfFile),
		stackFiles: rows(stackFile),
	};
}

/**
 * Prints a summary as plain tables, `top` rows each. Given the `requests` served while sampling,
 * each row also says how many µs of the isolate's busy time that is per request: shares move when
 * one entry shrinks, µs per request compare runs (the sampler counts wall time, so a crowded
 * machine inflates them; compare runs made back to back).
 */
export function printSummary(summary, { title, top = 15, requests = 0, log = console.log }) {
	const busy = summary.pseudo["(busy: JavaScript and what it calls)"];
	const busyUsPerRequest = requests > 0 ? ((busy.samples / summary.samples) * summary.ms * 1000) / requests : 0;
	log(`\n# ${title}: ${summary.samples} samples over ${summary.ms} ms`);
	if (requests > 0) log(`busy time per request: ${Math.round(busyUsPerRequest)} µs (${requests} requests)`);
	log("whole isolate (share of every sample):");
	for (const [name, v] of Object.entries(summary.pseudo)) log(`  ${pad(v.pct)}%  ${name}`);
	const table = (heading, rows) => {
		log(heading);
		for (const r of rows.slice(0, top)) {
			const us = requests > 0 ? `${String(Math.round((r.pct / 100) * busyUsPerRequest)).padStart(6)} µs  ` : "";
			log(`  ${pad(r.pct)}%  ${us}${r.name}`);
		}
	};
	table("self time by function (share of busy samples):", summary.functions);
	table("self time by source file:", summary.files);
	table("on the stack, by source file (inclusive):", summary.stackFiles);
}

/** A path relative to the project; under node_modules, the package only unless `whole`. */
function tidyPath(p, { whole = false } = {}) {
	const s = p.replace(/^file:\/\//, "").replaceAll("\\", "/");
	const nm = s.lastIndexOf("node_modules/");
	if (nm >= 0 && whole) return s.slice(nm);
	if (nm >= 0) {
		// One row per package: node_modules/hono, node_modules/@scope/name.
		const parts = s.slice(nm + "node_modules/".length).split("/");
		return `node_modules/${parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]}`;
	}
	for (const root of ["src/", "durable-objects/", "queues/"]) {
		const at = s.lastIndexOf(`../${root}`);
		if (at >= 0) return s.slice(at + 3);
		if (s.startsWith(root)) return s;
	}
	return s;
}

function bump(map, key) {
	map.set(key, (map.get(key) ?? 0) + 1);
}

function round(x) {
	return Math.round(x * 10) / 10;
}

function pad(x) {
	return String(x.toFixed(1)).padStart(5);
}
