import { describe, expect, it } from "vitest";
import wranglerToml from "../../../wrangler.toml?raw";
import {
	TELEMETRY_DLQ_MAX_RETRIES,
	TELEMETRY_MAX_RETRIES,
	TELEMETRY_RETRY_CAP_SECONDS,
	retrySpanSeconds,
	telemetryRetryDelaySeconds,
} from "../../../src/platform/queue-limits";

const HOUR = 3600;

/** The max_retries of one [[queues.consumers]] entry of wrangler.toml. */
function configuredMaxRetries(queue: string): number | null {
	for (const section of wranglerToml.split("[[queues.consumers]]").slice(1)) {
		const body = section.split(/^\[/m)[0] ?? "";
		if (!new RegExp(`^queue = "${queue}"$`, "m").test(body)) continue;
		const match = /^max_retries = (\d+)$/m.exec(body);
		return match?.[1] === undefined ? null : Number(match[1]);
	}
	return null;
}

describe("telemetry retry schedule", () => {
	it("doubles from 2 s and caps at 15 minutes", () => {
		expect([1, 2, 3, 9, 10, 11, 50].map((a) => telemetryRetryDelaySeconds(a))).toEqual([2, 4, 8, 512, 900, 900, 900]);
		expect(TELEMETRY_RETRY_CAP_SECONDS).toBe(900);
	});

	it("outlasts an hour-long outage within the main queue's max_retries, and the DLQ's", () => {
		expect(retrySpanSeconds(TELEMETRY_MAX_RETRIES, telemetryRetryDelaySeconds)).toBe(3722);
		expect(retrySpanSeconds(TELEMETRY_MAX_RETRIES, telemetryRetryDelaySeconds)).toBeGreaterThan(HOUR);
		// One retry fewer would not: 12 is the least that covers an hour.
		expect(retrySpanSeconds(TELEMETRY_MAX_RETRIES - 1, telemetryRetryDelaySeconds)).toBeLessThan(HOUR);
		expect(retrySpanSeconds(TELEMETRY_DLQ_MAX_RETRIES, telemetryRetryDelaySeconds)).toBe(82_922);
		expect(TELEMETRY_DLQ_MAX_RETRIES).toBeLessThanOrEqual(100); // Cloudflare's maximum
	});

	it("uses the max_retries that wrangler.toml configures", () => {
		expect(configuredMaxRetries("floodgate-telemetry")).toBe(TELEMETRY_MAX_RETRIES);
		expect(configuredMaxRetries("floodgate-telemetry-dlq")).toBe(TELEMETRY_DLQ_MAX_RETRIES);
	});
});
