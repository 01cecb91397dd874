import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import type { AppEnv } from "./app-env";
import { AppError, codeForStatus, errorResponse } from "./errors";
import { allowedMethods } from "./method-not-allowed";
import { deviceOrTenantAuth } from "./middleware/device-auth";
import { idempotency } from "./middleware/idempotency";
import { jsonBody } from "./middleware/json-body";
import { rateLimit } from "./middleware/rate-limit";
import { tenantAuth } from "./middleware/tenant-auth";
import { handleJobsBatch, handleJobsDeadLetterBatch } from "../queues/jobs";
import { adminRoutes } from "./routes/admin";
import { deadLetterRoutes } from "./routes/dead-letters";
import { locationRoutes } from "./routes/location";
import { machineRoutes } from "./routes/machines";
import { echoRoutes } from "./routes/echo";
import { jobInsightRoutes } from "./routes/job-insights";
import { jobTypeRoutes } from "./routes/job-types";
import { jobWorkerRoutes } from "./routes/job-workers";
import { jobRoutes } from "./routes/jobs";
import { scheduleRoutes } from "./routes/schedules";
import { sweepJobs } from "./services/job-sweeper";
import { deviceSelfRoutes } from "./routes/device-self";
import { deviceRoutes } from "./routes/devices";
import { maintenanceRoutes, restockRoutes } from "./routes/planning";
import { buildRoutePlans } from "./services/route-plans";
import { metaRoutes } from "./routes/meta";
import { paymentRoutes } from "./routes/payments";
import { rateLimitRoutes } from "./routes/ratelimit";
import { statsRoutes } from "./routes/stats";
import { truckRoutes } from "./routes/trucks";
import { handleTelemetryBatch } from "../queues/telemetry";
import { handleTelemetryDlqBatch } from "../queues/telemetry-dlq";
import { sandboxProcessorRoutes } from "./routes/sandbox-processor";

export { CircuitBreaker } from "../durable-objects/circuit-breaker";
export { IdempotencyKey } from "../durable-objects/idempotency-key";
export { JobSchedule } from "../durable-objects/job-schedule";
export { JobTimer } from "../durable-objects/job-timer";
export { JobTypeGate } from "../durable-objects/job-type-gate";
export { RateLimiter } from "../durable-objects/rate-limiter";
export { SandboxProcessor } from "../durable-objects/sandbox-processor";
export { DeviceNonces } from "../durable-objects/device-nonces";

const ROUTE_PLAN_CRON = "*/15 * * * *";

const app = new Hono<AppEnv>();

app.use(requestId({ headerName: "X-Request-Id" }));
app.use("/api/*", jsonBody({ bulkPaths: ["/api/v1/devices/bulk"] }));

app.get("/api/v1/health", (c) => c.json({ status: "ok" }));
app.route("/api/v1/admin", adminRoutes);
// Before the tenant routes: these take the admin token (stats: or an API key).
app.route("/api/v1/dead-letters", deadLetterRoutes);
app.route("/api/v1/stats", statsRoutes);

app.route("/api/v1/whoami", tenantApi(metaRoutes));
app.route("/api/v1/ratelimit", tenantApi(rateLimitRoutes));
app.route("/api/v1/location", deviceApi(locationRoutes));
app.route("/api/v1/machines", deviceApi(machineRoutes));
app.route("/api/v1/trucks", tenantApi(truckRoutes));
app.route("/api/v1/echo", tenantApi(echoRoutes));
app.route("/api/v1/payments", deviceApi(paymentRoutes));

// The built-in sandbox card processor (PAYMENT_PROCESSOR_URL's local default); off unless SANDBOX_PROCESSOR_ENABLED.
app.route("/_sandbox/processor", sandboxProcessorRoutes);
// Fixed paths (metrics, claim, bulk) before /jobs/:id; one tenantApi so auth and limits run once.
app.route("/api/v1/jobs", tenantApi(jobInsightRoutes, jobWorkerRoutes, jobRoutes));
app.route("/api/v1/job-types", tenantApi(jobTypeRoutes));
app.route("/api/v1/schedules", tenantApi(scheduleRoutes));
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

/**
 * A resource on its own paths only: authentication, the gateway limiter, then Idempotency-Key for
 * every POST that sends one (routes may require it). Tenant resources take an API key; device
 * resources also a device token, which may act only as its own device.
 */
function tenantApi(...routers: Hono<AppEnv>[]): Hono<AppEnv> {
	return guarded(tenantAuth(), routers);
}

function deviceApi(...routers: Hono<AppEnv>[]): Hono<AppEnv> {
	return guarded(deviceOrTenantAuth(), routers);
}

function guarded(auth: MiddlewareHandler<AppEnv>, routers: Hono<AppEnv>[]): Hono<AppEnv> {
	const api = new Hono<AppEnv>().use(auth, rateLimit(), idempotency());
	for (const routes of routers) api.route("/", routes);
	return api;
}

export { app };

export default {
	fetch: app.fetch,
	async queue(batch, env, ctx) {
		switch (batch.queue) {
			case "floodgate-telemetry":
				return handleTelemetryBatch(batch, env, ctx);
			case "floodgate-telemetry-dlq":
				return handleTelemetryDlqBatch(batch, env, ctx);
			case "floodgate-jobs":
				return handleJobsBatch(batch, env, ctx);
			case "floodgate-jobs-dlq":
				return handleJobsDeadLetterBatch(batch, env, ctx);
			default:
				// A queue wired to this Worker without a handler: leave its messages to retry, never drop them.
				console.error(JSON.stringify({ level: "error", msg: "batch from an unknown queue left to retry", queue: batch.queue }));
				batch.retryAll();
		}
	},
	// Cron triggers (wrangler.toml): the job sweeper every minute, route plans every 15 minutes.
	async scheduled(controller, env, ctx) {
		if (controller.cron === ROUTE_PLAN_CRON) {
			ctx.waitUntil(buildRoutePlans(env, controller.scheduledTime));
			return;
		}
		ctx.waitUntil(sweepJobs(env).then((r) => console.log(JSON.stringify({ level: "info", msg: "job sweep", ...r }))));
	},
} satisfies ExportedHandler<Env>;
