import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../../src/platform/app-env";
import { AppError, errorResponse } from "../../../src/platform/errors";
import type { IdempotencyOptions } from "../../../src/gateway/idempotency/middleware";
import { idempotency } from "../../../src/gateway/idempotency/middleware";
import { tenantAuth } from "../../../src/gateway/tenants/middleware";
import { validate } from "../../../src/platform/validation";

/**
 * A small app built from the platform's real middleware (tenant auth, idempotency with test
 * options such as a 1 s retention) and real bindings, with handlers that count their side effects
 * and can be held mid-flight, so the tests can observe what ran.
 */

export type Probe = { runs: number; gate: Promise<void> | null; entered: (() => void) | null; failNext: number };

export function createProbeApp(options: IdempotencyOptions) {
	const probe: Probe = { runs: 0, gate: null, entered: null, failNext: 0 };
	const app = new Hono<AppEnv>();
	app.use("/t/*", tenantAuth(), idempotency(options));
	const handle = async (c: import("hono").Context<AppEnv>) => {
		probe.runs += 1;
		const run = probe.runs;
		probe.entered?.();
		if (probe.gate) await probe.gate;
		if (probe.failNext > 0) {
			probe.failNext -= 1;
			throw new Error("handler failure (test)");
		}
		return c.json({ run, method: c.req.method }, 201);
	};
	app.post("/t/thing", validate("json", z.object({ n: z.number() }).passthrough()), handle);
	app.put("/t/thing", handle);
	app.get("/t/thing", handle);
	app.delete("/t/thing", handle);
	app.onError((err, c) =>
		errorResponse(c, err instanceof AppError ? err : new AppError(500, "internal_error", "boom")),
	);

	async function send(method: string, apiKey: string, key: string | null, body?: unknown): Promise<Response> {
		const headers = new Headers({ Authorization: `Bearer ${apiKey}` });
		if (key !== null) headers.set("Idempotency-Key", key);
		if (body !== undefined) headers.set("Content-Type", "application/json");
		const init: RequestInit = { method, headers, body: body === undefined ? undefined : JSON.stringify(body) };
		return app.fetch(new Request("http://floodgate.test/t/thing", init), env, createExecutionContext());
	}

	/** Holds the next handler run until the returned release() is called; `entered` resolves when it starts. */
	function hold(): { entered: Promise<void>; release: () => void } {
		let release = () => {};
		probe.gate = new Promise<void>((resolve) => {
			release = () => {
				probe.gate = null;
				resolve();
			};
		});
		const entered = new Promise<void>((resolve) => {
			probe.entered = () => {
				probe.entered = null;
				resolve();
			};
		});
		return { entered, release };
	}

	return { probe, send, hold };
}
