// A small Worker from a script string on its own Miniflare (the same workerd build the platform
// runs on), served on a free loopback port through a direct socket: the baselines some scenarios
// compare against (a one-line Worker, a minimal fetch proxy).
import { Miniflare, convertV4MiniflareOptions } from "miniflare";
import { freePort } from "./bullmq-peer.mjs";

/** @returns {Promise<{ url: string, stop: () => Promise<void> }>} url without a trailing slash. */
export async function startScriptWorker({ name, script, bindings = {} }) {
	const port = await freePort();
	const mf = new Miniflare(
		convertV4MiniflareOptions({
			workers: [
				{
					name,
					modules: true,
					script,
					compatibilityDate: "2026-11-01",
					bindings,
					unsafeDirectSockets: [{ host: "127.0.0.1", port }],
				},
			],
		}),
	);
	await mf.ready;
	return { url: `http://127.0.0.1:${port}`, stop: () => mf.dispose() };
}
