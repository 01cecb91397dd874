// The rate-limit peer measured in the same run (issue 12 §4): Express with express-rate-limit and
// its Redis store (rate-limit-redis over ioredis) on a throwaway local redis-server, the usual
// Node answer to "rate limit an API across processes". Two routes of one app: /open (no limiter)
// and /limited (a sliding-window limit far above the load, so every request is counted and none
// refused). Its with / without ratio is the figure to compare with the gateway's own.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { findRedisServer, freePort, startRedis, waitForPort } from "./bullmq-peer.mjs";

const APP = `
import express from "express";
import { rateLimit } from "express-rate-limit";
import { RedisStore } from "rate-limit-redis";
import { Redis } from "ioredis";
const [port, redisPort] = process.argv.slice(1).map(Number);
const client = new Redis({ host: "127.0.0.1", port: redisPort });
const limiter = rateLimit({
	windowMs: 60_000,
	limit: 100_000_000,
	standardHeaders: "draft-8",
	legacyHeaders: false,
	store: new RedisStore({ sendCommand: (command, ...args) => client.call(command, ...args) }),
});
const app = express();
const answer = (req, res) => res.json({ ok: true });
app.get("/open", answer);
app.get("/limited", limiter, answer);
app.listen(port, "127.0.0.1");
`;

/** Why the peer cannot run here, or null. */
export async function rateLimitPeerMissing() {
	if (findRedisServer() === null) return "redis-server is not installed (apt-get install redis-server)";
	for (const name of ["express", "express-rate-limit", "rate-limit-redis", "ioredis"]) {
		try {
			await import(name);
		} catch {
			return `${name} is not installed (npm install)`;
		}
	}
	return null;
}

/** Starts redis-server and the Express app; returns { open, limited, stop } URLs. */
export async function startRateLimitPeer(root) {
	const redis = await startRedis();
	const port = await freePort();
	const app = spawn(process.execPath, ["--input-type=module", "-e", APP, String(port), String(redis.port)], {
		cwd: root,
		stdio: ["ignore", "ignore", "inherit"],
	});
	const stop = async () => {
		app.kill("SIGTERM");
		await once(app, "exit").catch(() => undefined);
		redis.stop();
	};
	try {
		await waitForPort(port);
	} catch (err) {
		await stop();
		throw err;
	}
	const base = `http://127.0.0.1:${port}`;
	return { open: `${base}/open`, limited: `${base}/limited`, stop };
}
