import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { errorText, log } from "../platform/log";
import { validate } from "../platform/validation";
import { viewerTenant } from "./auth";
import { STREAM_INTERVAL_MS, STREAM_LIFETIME_MS } from "./domain";
import { dashboardDocs } from "./openapi";
import { sessionBody } from "./schema";
import { closeSession, openSession } from "./session";
import { dashboardSession } from "./session-cookie";
import { buildSnapshot } from "./snapshot";

/** Login, logout, one snapshot, and the live stream of snapshots. */
export const dashboardRoutes = new Hono<AppEnv>()
	.post("/session", dashboardDocs.login, validate("json", sessionBody), async (c) => {
		const s = await openSession(c, c.req.valid("json").token);
		return c.json({ scope: s.scope, tenant_id: s.tenantId, tenant_name: s.tenantName, expires_at: s.expiresAt }, 201);
	})
	.get("/session", dashboardDocs.session, async (c) => {
		const s = await dashboardSession(c);
		if (!s) throw new AppError(401, "unauthorized", "No dashboard session: log in first.");
		return c.json({ scope: s.scope, tenant_id: s.tenant_id, tenant_name: null, expires_at: s.expires_at });
	})
	.delete("/session", dashboardDocs.logout, async (c) => {
		// Cross-origin logouts are refused like any changing request (dashboardSession's Origin check).
		await dashboardSession(c).catch((err: unknown) => {
			if (err instanceof AppError && err.status === 403) throw err;
		});
		return c.json({ closed: await closeSession(c) });
	})
	.get("/snapshot", dashboardDocs.snapshot, async (c) => {
		const tenantId = await viewerTenant(c);
		return c.json(await buildSnapshot(c.env, tenantId, Date.now()));
	})
	.get("/stream", dashboardDocs.stream, async (c) => {
		const tenantId = await viewerTenant(c);
		return streamSSE(
			c,
			async (stream) => {
				const until = Date.now() + STREAM_LIFETIME_MS;
				let id = 0;
				while (!stream.aborted && Date.now() < until) {
					const snapshot = await buildSnapshot(c.env, tenantId, Date.now());
					await stream.writeSSE({ event: "snapshot", id: String(++id), data: JSON.stringify(snapshot), retry: 1000 });
					await stream.sleep(STREAM_INTERVAL_MS);
				}
			},
			async (err, stream) => {
				log.error("dashboard stream failed", { request_id: c.get("requestId"), error: errorText(err) });
				await stream.writeSSE({
					event: "failure",
					data: JSON.stringify({ message: "The snapshot failed; reconnecting." }),
				});
			},
		);
	});
