import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { requestId } from "hono/request-id";
import type { AppEnv } from "./platform/app-env";
import { AppError, codeForStatus, errorResponse } from "./platform/errors";
import { errorText, log } from "./platform/log";
import { allowedMethods } from "./platform/method-not-allowed";
import { deviceOrTenantAuth } from "./devices/middleware";
import { idempotency } from "./gateway/idempotency/middleware";
import { jsonBody } from "./platform/body-limit";
import { openApiDocument, platformDocs } from "./platform/openapi-document";
import { apiSecureHeaders } from "./platform/secure-headers";
import { rateLimit } from "./gateway/limiter/middleware";
import { tenantAuth } from "./gateway/tenants/middleware";
import { adminRoutes } from "./gateway/tenants/routes";
import { deadLetterRoutes } from "./telemetry/dead-letter-routes";
import { locationRoutes } from "./telemetry/location-routes";
import { machineRoutes } from "./telemetry/machine-routes";
import { echoRoutes } from "./gateway/idempotency/echo-routes";
import { jobInsightRoutes } from "./jobs/insight-routes";
import { jobTypeRoutes } from "./jobs/type-routes";
import { jobWorkerRoutes } from "./jobs/worker-routes";
import { jobRoutes } from "./jobs/routes";
import { scheduleRoutes } from "./jobs/schedules/routes";
import { deviceHeartbeatRoutes, deviceScheduleRoutes } from "./devices/self-routes";
import { deviceRoutes } from "./devices/routes";
import { maintenanceRoutes, restockRoutes } from "./planning/routes";
import { metaRoutes } from "./gateway/tenants/whoami-routes";
import { paymentRoutes } from "./payments/routes";
import { rateLimitRoutes } from "./gateway/limiter/routes";
import { statsRoutes } from "./telemetry/stats-routes";
import { truckRoutes } from "./telemetry/truck-routes";
import { sandboxProcessorRoutes } from "./payments/sandbox-routes";
import { lockRoutes } from "./locks/routes";
import { signingSecretRoutes } from "./gateway/signing-secrets/routes";
import { deploymentGuard, refuseMisconfigured } from "./platform/deployment-guard";
import { clickDeadLetterRoutes } from "./shortener/dead-letter-routes";
import { redirectRoutes } from "./shortener/redirect-routes";
import { linkRoutes } from "./shortener/routes";
import { searchRoutes } from "./search/routes";
import { serverTiming } from "./platform/server-timing";
import { cacheRoutes } from "./cache/routes";
import { tusProtocol } from "./uploads/middleware";
import { uploadDiscoveryRoutes, uploadRoutes } from "./uploads/routes";
import { metricRoutes } from "./metrics/routes";
import { recordingRoutes } from "./recordings/routes";
import { alertRoutes } from "./metrics/alert-routes";
import { expositionRoutes } from "./metrics/exposition-routes";
import { countRequests } from "./metrics/middleware";
import { reportRoutes } from "./reports/routes";
import { accountRoutes, jwksRoutes } from "./accounts/routes";
import { listRoutes } from "./campaigns/list-routes";
import { campaignRoutes } from "./campaigns/campaign-routes";
import { providerWebhookRoutes, unsubscribeRoutes } from "./campaigns/public-routes";
import { emailSandboxRoutes } from "./email/sandbox-routes";
import { gatewayRouteRoutes } from "./apigw/routes";
import { gatewayTrafficRoutes } from "./apigw/proxy-routes";
import { webhookEndpointRoutes } from "./webhooks/routes";
import { webhookEventRoutes } from "./webhooks/event-routes";
import { dashboardRoutes } from "./dashboard/routes";
import { countResponses } from "./dashboard/counters";
import { inboxRoutes, notificationRoutes } from "./notifications/routes";
import { notificationDeadLetterRoutes } from "./notifications/dead-letter-routes";
import { socialUserRoutes } from "./social/user-routes";
import { commentRoutes, postRoutes } from "./social/post-routes";
import { socialSettingsRoutes, timelineRoutes } from "./social/timeline-routes";

export { CircuitBreaker } from "../durable-objects/payments-circuit-breaker";
export { IdempotencyKey } from "../durable-objects/gateway-idempotency-key";
export { IdempotencyShard } from "../durable-objects/gateway-idempotency-shard";
export { JobSchedule } from "../durable-objects/jobs-schedule";
export { JobTimer } from "../durable-objects/jobs-timer";
export { JobTypeGate } from "../durable-objects/jobs-type-gate";
export { RateLimiter } from "../durable-objects/gateway-rate-limiter";
export { SandboxProcessor } from "../durable-objects/payments-sandbox-processor";
export { DeviceNonces } from "../durable-objects/devices-nonces";
export { DistributedLock } from "../durable-objects/locks-distributed-lock";
export { AutocompleteShard } from "../durable-objects/search-autocomplete-shard";
export { CacheShard } from "../durable-objects/cache-shard";
export { TusUpload } from "../durable-objects/uploads-tus-upload";
export { DeliveryLane } from "../durable-objects/delivery-lane";
export { NotificationInbox } from "../durable-objects/notifications-inbox";
export { FeedStream } from "../durable-objects/social-feed-stream";
export { LinkCapCounter } from "../durable-objects/shortener-link-cap-counter";

const app = new Hono<AppEnv>();

app.use(requestId({ headerName: "X-Request-Id" }));
// A production deploy with a development-only setting or secret answers 500 misconfigured to everything.
app.use(deploymentGuard());
app.use(apiSecureHeaders());
// Requests by route and status for GET /metrics, counted per isolate (src/metrics/middleware.ts).
app.use(countRequests());
// Responses by status class per tenant, for the dashboard's charts (src/dashboard/counters.ts).
app.use(countResponses());
// tus uploads carry application/offset+octet-stream bodies up to UPLOAD_MAX_PATCH_BYTES: their own checks.
app.use(
	"/api/*",
	jsonBody({
		bulkPaths: ["/api/v1/devices/bulk"],
		exceptPaths: ["/api/v1/uploads/*", "/api/v1/recordings/*/artifacts/*"],
	}),
);
app.use("/api/v1/uploads/*", tusProtocol());

app.get("/api/v1/health", platformDocs.health, (c) => c.json({ status: "ok" }));
app.get("/api/v1/openapi.json", platformDocs.document, openApiDocument(app));
app.route("/api/v1/admin", adminRoutes);
// Before the tenant routes: these take the admin token (stats: or an API key).
app.route("/api/v1/dead-letters", deadLetterRoutes);
app.route("/api/v1/stats", statsRoutes);
// The dashboard's login, snapshot and live stream: admin token, API key or its session cookie.
app.route("/api/v1/dashboard", dashboardRoutes);

// Server-Timing before the guards, so it counts authentication and the limiter (the benches read it).
app.use("/api/v1/whoami", serverTiming());
app.route("/api/v1/whoami", tenantApi(metaRoutes));
app.route("/api/v1/ratelimit", tenantApi(rateLimitRoutes));
app.use("/api/v1/location/*", serverTiming());
app.route("/api/v1/location", deviceApi(locationRoutes));
app.route("/api/v1/machines", deviceApi(machineRoutes));
app.route("/api/v1/trucks", tenantApi(truckRoutes));
app.route("/api/v1/echo", tenantApi(echoRoutes));
app.route("/api/v1/signing-secrets", tenantApi(signingSecretRoutes));
app.route("/api/v1/payments", deviceApi(paymentRoutes));

// The built-in sandbox card processor (PAYMENT_PROCESSOR_URL's local default); off unless
// SANDBOX_PROCESSOR_ENABLED, and then only for the platform itself (SELF) or the admin token.
app.route("/_sandbox/processor", sandboxProcessorRoutes);
// Fixed paths (metrics, claim, bulk) before /jobs/:id; one tenantApi so auth and limits run once.
app.route("/api/v1/jobs", tenantApi(jobInsightRoutes, jobWorkerRoutes, jobRoutes));
app.route("/api/v1/job-types", tenantApi(jobTypeRoutes));
app.route("/api/v1/schedules", tenantApi(scheduleRoutes));
// A device's own paths (device token or tenant key) each on its full path, before the registry
// (tenant key only): a guard's middleware covers its mount path and below, so neither leaks onto
// the other's routes, and the registry's never runs once a device route has answered.
app.route("/api/v1/devices/:deviceId/schedule", deviceApi(deviceScheduleRoutes));
app.route("/api/v1/devices/:deviceId/heartbeat", deviceApi(deviceHeartbeatRoutes));
app.route("/api/v1/devices", tenantApi(deviceRoutes));
app.route("/api/v1/restock", tenantApi(restockRoutes));
app.route("/api/v1/maintenance", tenantApi(maintenanceRoutes));
app.route("/api/v1/locks", tenantApi(lockRoutes));
app.route("/api/v1/links", tenantApi(linkRoutes));
app.route("/api/v1/shortener", tenantApi(clickDeadLetterRoutes));
// Before the search API's own guard, so its Server-Timing counts authentication and the limiter.
app.use("/api/v1/search/indexes/:name/suggest", serverTiming());
app.route("/api/v1/search", tenantApi(searchRoutes));
// Public short-link redirects: no credential, their own per-IP and per-link limits.
app.route("/s", redirectRoutes);
app.route("/api/v1/cache", tenantApi(cacheRoutes));
// OPTIONS (tus discovery) needs no credential; the rest is tenant-authenticated.
app.route("/api/v1/uploads", uploadDiscoveryRoutes);
app.route("/api/v1/uploads", tenantApi(uploadRoutes));
app.route("/api/v1/recordings", tenantApi(recordingRoutes));
app.route("/api/v1/metrics", tenantApi(metricRoutes, alertRoutes));
app.route("/metrics", expositionRoutes);
app.route("/api/v1/reports", tenantApi(reportRoutes));
// A tenant's end users (no API key: Floodgate-Tenant names the tenant, then their access token does).
app.route("/api/v1/auth", accountRoutes);
app.route("/.well-known", jwksRoutes);
// Email campaigns: the provider's signed webhook and one-click unsubscribe take no login.
app.route("/api/v1/email/webhooks/provider", providerWebhookRoutes);
app.route("/u", unsubscribeRoutes);
app.route("/api/v1/email", tenantApi(emailSandboxRoutes));
app.route("/api/v1/lists", tenantApi(listRoutes));
app.route("/api/v1/campaigns", tenantApi(campaignRoutes));
app.route("/api/v1/gateway/routes", tenantApi(gatewayRouteRoutes));
// A tenant's upstreams: no platform auth in front, each route's own (API key or none) and limits.
app.route("/gw", gatewayTrafficRoutes);
app.route("/api/v1/webhooks", tenantApi(webhookEndpointRoutes, webhookEventRoutes));
app.route("/api/v1/notifications", tenantApi(inboxRoutes, notificationDeadLetterRoutes, notificationRoutes));
// The social API of a tenant's end users (access token, endUserAuth inside); settings take the API key.
app.route("/api/v1/users", socialUserRoutes);
app.route("/api/v1/posts", postRoutes);
app.route("/api/v1/comments", commentRoutes);
app.route("/api/v1/timeline", timelineRoutes);
app.route("/api/v1/social/settings", tenantApi(socialSettingsRoutes));

app.notFound((c) => {
	const allow = allowedMethods(app, c.req.path);
	if (allow.length > 0) {
		return errorResponse(
			c,
			new AppError(
				405,
				"method_not_allowed",
				`${c.req.method} is not allowed on ${c.req.path}.`,
				{ allow },
				{ Allow: allow.join(", ") },
			),
		);
	}
	return errorResponse(c, new AppError(404, "not_found", `No route for ${c.req.method} ${c.req.path}.`));
});

app.onError((err, c) => {
	if (err instanceof AppError) return errorResponse(c, err);
	if (err instanceof HTTPException) {
		return errorResponse(c, new AppError(err.status, codeForStatus(err.status), err.message || "Request rejected."));
	}
	log.error("unhandled error", {
		request_id: c.get("requestId"),
		error: errorText(err),
		stack: err instanceof Error ? err.stack : undefined,
	});
	return errorResponse(
		c,
		new AppError(500, "internal_error", "Something went wrong on our side. Quote the request id when reporting it."),
	);
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

import { CRONS, QUEUES } from "./dispatch";

export default {
	fetch: app.fetch,
	async queue(batch, env, ctx) {
		// Never dropped: a misconfigured production deploy leaves the batch to retry.
		if (refuseMisconfigured(env, `queue ${batch.queue}`)) return batch.retryAll();
		const handler = Object.hasOwn(QUEUES, batch.queue) ? QUEUES[batch.queue] : undefined;
		if (handler) return handler(batch, env, ctx);
		// A queue wired to this Worker without a handler: leave its messages to retry, never drop them.
		log.error("batch from an unknown queue left to retry", { queue: batch.queue });
		batch.retryAll();
	},
	async scheduled(controller, env, ctx) {
		if (refuseMisconfigured(env, `cron ${controller.cron}`)) return;
		const handler = Object.hasOwn(CRONS, controller.cron) ? CRONS[controller.cron] : undefined;
		if (!handler) {
			log.error("cron trigger without a handler ignored", { cron: controller.cron });
			return;
		}
		ctx.waitUntil(handler(env, controller.scheduledTime));
	},
} satisfies ExportedHandler<Env>;
