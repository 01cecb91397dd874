/** The Worker's dispatch tables: a consumer per queue and a handler per cron (src/index.ts runs them). */
import { handleJobsBatch } from "../queues/jobs";
import { handleJobsDeadLetterBatch } from "../queues/jobs-dlq";
import { sweepJobs } from "./jobs/sweeper";
import { buildRoutePlans } from "./planning/route-plans";
import { reconcilePayments } from "./payments/reconciler";
import { paymentRetentionTargets } from "./payments/retention";
import { jobRetentionTargets } from "./jobs/retention";
import { telemetryRetentionTargets } from "./telemetry/retention";
import { sweepRetention } from "./platform/retention";
import { handleTelemetryBatch } from "../queues/telemetry";
import { handleTelemetryDlqBatch } from "../queues/telemetry-dlq";
import { handleTelemetryBackfillBatch } from "../queues/telemetry-backfill";
import { recordingRetentionTargets } from "./recordings/retention";
import { sweepStuckStages } from "./recordings/sweeper";
import { uploadRetentionTargets } from "./uploads/retention";
import { evaluateAlerts } from "./metrics/alerts";
import { metricsRetentionTargets } from "./metrics/retention";
import { handleMetricsBatch } from "../queues/metrics";
import { handleMetricsDeadLetterBatch } from "../queues/metrics-dlq";
import { reportRetentionTargets } from "./reports/retention";
import { handleReportsBatch, handleReportsDeadLetterBatch } from "../queues/reports";
import { accountRetentionTargets } from "./accounts/retention";
import { restartStalledCampaigns } from "./campaigns/service";
import { campaignRetentionTargets } from "./campaigns/retention";
import { handleEmailBatch } from "../queues/email";
import { handleEmailDeadLetterBatch } from "../queues/email-dlq";
import { checkUpstreams } from "./apigw/health";
import { webhookRetentionTargets } from "./webhooks/retention";
import { handleWebhooksBatch } from "../queues/webhooks";
import { handleWebhooksDeadLetterBatch } from "../queues/webhooks-dlq";
import { dashboardRetentionTargets } from "./dashboard/retention";
import { notificationRetentionTargets } from "./notifications/retention";
import { handleNotificationsBatch } from "../queues/notifications";
import { handleNotificationsDeadLetterBatch } from "../queues/notifications-dlq";
import { enqueueDueDigests } from "./notifications/digest";
import { sweepStrandedNotifications } from "./notifications/sweeper";
import { sweepStrandedDeliveries } from "./webhooks/sweeper";
import { socialRetentionTargets } from "./social/retention";
import { handleFeedBatch, handleFeedDeadLetterBatch } from "../queues/feed";
import { decisionRetentionTargets } from "./gateway/limiter/decisions";
import { shortenerRetentionTargets } from "./shortener/retention";
import { handleClicksBatch, handleClicksDeadLetterBatch } from "../queues/clicks";
import { errorText, log } from "./platform/log";

type QueueHandler = (batch: MessageBatch, env: Env, ctx: ExecutionContext) => Promise<void>;
type CronHandler = (env: Env, scheduledTime: number) => Promise<void>;

/** One consumer per queue (wrangler.toml's [[queues.consumers]]). */
export const QUEUES: Record<string, QueueHandler> = {
	"floodgate-telemetry": handleTelemetryBatch,
	"floodgate-telemetry-dlq": handleTelemetryDlqBatch,
	"floodgate-telemetry-backfill": handleTelemetryBackfillBatch,
	"floodgate-jobs": handleJobsBatch,
	"floodgate-jobs-dlq": handleJobsDeadLetterBatch,
	"floodgate-metrics": handleMetricsBatch,
	"floodgate-metrics-dlq": handleMetricsDeadLetterBatch,
	"floodgate-reports-short": handleReportsBatch,
	"floodgate-reports-long": handleReportsBatch,
	"floodgate-reports-dlq": handleReportsDeadLetterBatch,
	"floodgate-email": handleEmailBatch,
	"floodgate-email-dlq": handleEmailDeadLetterBatch,
	"floodgate-webhooks": handleWebhooksBatch,
	"floodgate-webhooks-dlq": handleWebhooksDeadLetterBatch,
	"floodgate-notifications": handleNotificationsBatch,
	"floodgate-notifications-dlq": handleNotificationsDeadLetterBatch,
	"floodgate-feed": handleFeedBatch,
	"floodgate-feed-dlq": handleFeedDeadLetterBatch,
	"floodgate-clicks": handleClicksBatch,
	"floodgate-clicks-dlq": handleClicksDeadLetterBatch,
};

/** One handler per cron expression (wrangler.toml's [triggers] crons). */
export const CRONS: Record<string, CronHandler> = {
	// Visibility timeouts and lost run tokens; payments a processor failure left pending; recording
	// stages stuck running; webhook and notification deliveries whose queue message is gone. Each
	// settles on its own, so one failing does not stop the other.
	"* * * * *": async (env, scheduledTime) => {
		await Promise.allSettled([
			sweepJobs(env).then((figures) => log.info("job sweep", figures)),
			reconcilePayments(env, scheduledTime).then((figures) => log.info("payment reconciliation", figures)),
			evaluateAlerts(env, scheduledTime).then((figures) => log.info("metric alerts", figures)),
			restartStalledCampaigns(env, scheduledTime).then((figures) => log.info("campaign chains", figures)),
			checkUpstreams(env, scheduledTime).then((figures) => log.info("gateway health checks", figures)),
			sweepStuckStages(env, scheduledTime).then((figures) => log.info("recording stage sweep", figures)),
			enqueueDueDigests(env, scheduledTime).then((figures) => log.info("notification digests", figures)),
			sweepStrandedDeliveries(env, scheduledTime).then((figures) => log.info("webhook stranded sweep", figures)),
			sweepStrandedNotifications(env, scheduledTime).then((figures) =>
				log.info("notification stranded sweep", figures),
			),
		]).then(logRejections);
	},
	// Retention: each feature's expired data, in bounded batches (src/platform/retention.ts).
	"*/5 * * * *": async (env, scheduledTime) =>
		log.info(
			"retention",
			await sweepRetention([
				...jobRetentionTargets(env, scheduledTime),
				...telemetryRetentionTargets(env, scheduledTime),
				...paymentRetentionTargets(env, scheduledTime),
				...metricsRetentionTargets(env, scheduledTime),
				...recordingRetentionTargets(env, scheduledTime),
				...uploadRetentionTargets(env, scheduledTime),
				...reportRetentionTargets(env, scheduledTime),
				...accountRetentionTargets(env, scheduledTime),
				...campaignRetentionTargets(env, scheduledTime),
				...webhookRetentionTargets(env, scheduledTime),
				...dashboardRetentionTargets(env, scheduledTime),
				...notificationRetentionTargets(env, scheduledTime),
				...socialRetentionTargets(env, scheduledTime),
				...decisionRetentionTargets(env, scheduledTime),
				...shortenerRetentionTargets(env, scheduledTime),
			]),
		),
	// Morning route plans and missed-report tickets.
	"*/15 * * * *": async (env, scheduledTime) => log.info("route plans", await buildRoutePlans(env, scheduledTime)),
};

/** A cron entry runs several independent sweeps; a failed one is logged, the others still ran. */
function logRejections(results: PromiseSettledResult<unknown>[]): void {
	for (const r of results) if (r.status === "rejected") log.error("cron task failed", { error: errorText(r.reason) });
}
