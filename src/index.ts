import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import type { AppEnv } from "./app-env";
import { AppError, codeForStatus, errorResponse } from "./errors";
import { allowedMethods } from "./method-not-allowed";
import { jsonBody } from "./middleware/json-body";
import { rateLimit } from "./middleware/rate-limit";
import { tenantAuth } from "./middleware/tenant-auth";
import { adminRoutes } from "./routes/admin";
import { deviceSelfRoutes } from "./routes/device-self";
import { deviceRoutes } from "./routes/devices";
import { maintenanceRoutes, restockRoutes } from "./routes/planning";
import { buildRoutePlans } from "./services/route-plans";
import { metaRoutes } from "./routes/meta";
import { rateLimitRoutes } from "./routes/ratelimit";

export { RateLimiter } from "../durable-objects/rate-limiter";
export { DeviceNonces } from "../durable-objects/device-nonces";

const app = new Hono<AppEnv>();

app.use(requestId({ headerName: "X-Request-Id" }));
app.use("/api/*", jsonBody({ bulkPaths: ["/api/v1/devices/bulk"] }));

app.get("/api/v1/health", (c) => c.json({ status: "ok" }));
app.route("/api/v1/admin", adminRoutes);

app.route("/api/v1/whoami", tenantApi(metaRoutes));
app.route("/api/v1/ratelimit", tenantApi(rateLimitRoutes));
// Devices (issue 5): auth is per route in these routers (device token or tenant key), because
// both share the /api/v1/devices prefix and sub-app middleware would leak onto the other.
app.route("/api/v1/devices", deviceRoutes);
app.route("/api/v1/devices", deviceSelfRoutes);
app.route("/api/v1/restock", tenantApi(restockRoutes));
app.route("/api/v1/maintenance", tenantApi(maintenanceRoutes));

app.notFound((c) => {
	const allow = allowedMethods(app, c.req.path);
	if (allow.length > 0) {
		return errorResponse(c, new AppError(405, "method_not_allowed", `${c.req.method} is not allowed on ${c.req.path}.`, { allow }, { Allow: allow.join(", ") }));
	}
	return errorResponse(c, new AppError(404, "not_found", `No route for ${c.req.method} ${c.req.path}.`));
});

app.onError((err, c) => {
	if (err instanceof AppError) return errorResponse(c, err);
	if (err instanceof HTTPException) {
		return errorResponse(c, new AppError(err.status as AppError["status"], codeForStatus(err.status), err.message || "Request rejected."));
	}
	console.error(JSON.stringify({ level: "error", msg: "unhandled error", request_id: c.get("requestId"), error: String(err), stack: err instanceof Error ? err.stack : undefined }));
	return errorResponse(c, new AppError(500, "internal_error", "Something went wrong on our side. Quote the request id when reporting it."));
});

/** A tenant resource: its API key checked, then the gateway limiter, on its own paths only. */
function tenantApi(routes: Hono<AppEnv>): Hono<AppEnv> {
	return new Hono<AppEnv>().use(tenantAuth(), rateLimit()).route("/", routes);
}

export { app };

export default {
	fetch: app.fetch,
	// Cron (wrangler.toml [triggers]): morning route plans and missed-report tickets (issue 5).
	scheduled(controller, env, ctx) {
		ctx.waitUntil(buildRoutePlans(env, controller.scheduledTime));
	},
} satisfies ExportedHandler<Env>;
