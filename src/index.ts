import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import type { AppEnv } from "./app-env";
import { AppError, codeForStatus, errorResponse } from "./errors";
import { allowedMethods } from "./method-not-allowed";
import { idempotency } from "./middleware/idempotency";
import { jsonBody } from "./middleware/json-body";
import { rateLimit } from "./middleware/rate-limit";
import { tenantAuth } from "./middleware/tenant-auth";
import { adminRoutes } from "./routes/admin";
import { deadLetterRoutes } from "./routes/dead-letters";
import { locationRoutes } from "./routes/location";
import { machineRoutes } from "./routes/machines";
import { echoRoutes } from "./routes/echo";
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
export { RateLimiter } from "../durable-objects/rate-limiter";
export { SandboxProcessor } from "../durable-objects/sandbox-processor";

const app = new Hono<AppEnv>();

app.use(requestId({ headerName: "X-Request-Id" }));
app.use("/api/*", jsonBody());

app.get("/api/v1/health", (c) => c.json({ status: "ok" }));
app.route("/api/v1/admin", adminRoutes);
// Before the tenant routes: these take the admin token (stats: or an API key).
app.route("/api/v1/dead-letters", deadLetterRoutes);
app.route("/api/v1/stats", statsRoutes);

app.route("/api/v1/whoami", tenantApi(metaRoutes));
app.route("/api/v1/ratelimit", tenantApi(rateLimitRoutes));
app.route("/api/v1/location", tenantApi(locationRoutes));
app.route("/api/v1/machines", tenantApi(machineRoutes));
app.route("/api/v1/trucks", tenantApi(truckRoutes));
app.route("/api/v1/echo", tenantApi(echoRoutes));
app.route("/api/v1/payments", tenantApi(paymentRoutes));

// The built-in sandbox card processor (PAYMENT_PROCESSOR_URL's local default); off unless SANDBOX_PROCESSOR_ENABLED.
app.route("/_sandbox/processor", sandboxProcessorRoutes);

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
 * A tenant resource, on its own paths only: API key, gateway limiter, then Idempotency-Key for
 * every POST that sends one (routes may require it).
 */
function tenantApi(routes: Hono<AppEnv>): Hono<AppEnv> {
	return new Hono<AppEnv>().use(tenantAuth(), rateLimit(), idempotency()).route("/", routes);
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
			default:
				// A queue wired to this Worker without a handler: fail loudly so its messages are retried, not lost.
				throw new Error(`no consumer for queue ${batch.queue}`);
		}
	},
} satisfies ExportedHandler<Env>;
