// The floor under a closed-loop tail at many connections: the same load on (a) a one-line Worker
// in the same workerd build, through the same Miniflare direct socket the platform uses, and (b) a
// bare Node HTTP server in its own process. Neither touches Floodgate's code, so what they show at
// 500 clients (p99, max, timeouts, how evenly the connections were served) is what the local runtime
// and this box give any route, the ceiling no change in src/ can pass.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { freePort } from "./bullmq-peer.mjs";
import { drive } from "./load.mjs";
import { startScriptWorker } from "./script-worker.mjs";

const ONE_LINE_WORKER = `export default { fetch: () => new Response('{"ok":true}', { headers: { "content-type": "application/json" } }) };`;

const NODE_SERVER = `
const http = require("node:http");
const server = http.createServer((req, res) => {
	req.resume();
	req.on("end", () => {
		res.writeHead(200, { "content-type": "application/json" });
		res.end('{"ok":true}');
	});
});
server.listen(Number(process.argv[1]), "127.0.0.1", () => console.log("ready"));
`;

/** Drives each bare server for `seconds` at `connections`; returns both results (lib/load.mjs drive()). */
export async function runtimeFloor({ connections, seconds }) {
	const worker = await startOneLineWorker();
	let workerd;
	try {
		workerd = await drive({ url: worker.url, connections, duration: seconds });
	} finally {
		await worker.stop();
	}
	const node = await startNodeServer();
	try {
		return { workerd, node: await drive({ url: node.url, connections, duration: seconds }) };
	} finally {
		node.stop();
	}
}

/** A compact record of one floor result. */
export function floorSummary(r) {
	return {
		rps: Math.round(r.rps),
		p50_ms: r.p50,
		p99_ms: r.p99,
		max_ms: r.max,
		errors: r.errors,
		per_connection: r.per_connection,
	};
}

async function startOneLineWorker() {
	const worker = await startScriptWorker({ name: "one-line", script: ONE_LINE_WORKER });
	return { url: `${worker.url}/`, stop: worker.stop };
}

async function startNodeServer() {
	const port = await freePort();
	const child = spawn(process.execPath, ["-e", NODE_SERVER, String(port)], { stdio: ["ignore", "pipe", "inherit"] });
	await once(child.stdout, "data");
	return { url: `http://127.0.0.1:${port}/`, stop: () => child.kill("SIGTERM") };
}
