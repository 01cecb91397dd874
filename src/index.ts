import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import type { AppEnv } from "./app-env";
import { AppError, codeForStatus, errorResponse } from "./errors";
import { allowedMethods } from "./method-not-allowed";
import { jsonBody } from "./middleware/json-body";
import { rateLimit } from "./middleware/rate-limit";
import { tenantAuth } from "./middleware/tenant-auth";
import { handleJobsBatch, handleJobsDeadLetterBatch } from "../queues/jobs";
import { adminRoutes } from "./routes/admin";
import { jobInsightRoutes } from "./routes/job-insights";
import { jobTypeRoutes } from "./routes/job-types";
import { jobWorkerRoutes } from "./routes/job-workers";
import { jobRoutes } from "./routes/jobs";
import { scheduleRoutes } from "./routes/schedules";
import { sweepJobs } from "./services/job-sweeper";
import { metaRoutes } from "./routes/meta";
import { rateLimitRoutes } from "./routes/ratelimit";

export { JobSchedule } from "../durable-objects/job-schedule";
export { JobTimer } from "../durable-objects/job-timer";
export { JobTypeGate } from "../durable-objects/job-type-gate";
export { RateLimiter } from "../durable-objects/rate-limiter";

const app = new Hono<AppEnv>();

app.use(requestId({ headerName: "X-Request-Id" }));
app.use("/api/*", jsonBody());

app.get("/api/v1/health", (c) => c.json({ status: "ok" }));
app.route("/api/v1/admin", adminRoutes);

// Every tenant route: API key, then the gateway limiter.
const tenant = new Hono<AppEnv>().use(tenantAuth(), rateLimit());
tenant.route("/", metaRoutes);
tenant.route("/ratelimit", rateLimitRoutes);
// Fixed paths (metrics, claim, bulk) before /jobs/:id.
tenant.route("/jobs", jobInsightRoutes);
tenant.route("/jobs", jobWorkerRoutes);
tenant.route("/jobs", jobRoutes);
tenant.route("/job-types", jobTypeRoutes);
tenant.route("/schedules", scheduleRoutes);
app.route("/api/v1", tenant);

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

export { app };

export default {
	fetch: app.fetch,
	async queue(batch, env, ctx) {
		switch (batch.queue) {
			case "floodgate-jobs":
				return handleJobsBatch(batch, env, ctx);
			case "floodgate-jobs-dlq":
				return handleJobsDeadLetterBatch(batch, env, ctx);
			default:
				console.error(JSON.stringify({ level: "error", msg: "batch from an unknown queue left to retry", queue: batch.queue }));
				batch.retryAll();
		}
	},
	async scheduled(_controller, env, ctx) {
		ctx.waitUntil(sweepJobs(env).then((r) => console.log(JSON.stringify({ level: "info", msg: "job sweep", ...r }))));
	},
} satisfies ExportedHandler<Env>;
