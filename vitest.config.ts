import path from "node:path";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
	const migrations = await readD1Migrations(path.join(import.meta.dirname, "migrations"));
	return {
		plugins: [
			cloudflareTest({
				wrangler: { configPath: "./wrangler.toml" },
				miniflare: {
					// Test-only bindings: the migrations to apply in test/setup.ts.
					// Uploads: a 6 MiB PATCH limit (production: 100 MB), so the 413 test sends little. Parts stay
					// at R2's 5 MiB: local R2 enforces that minimum as R2 does.
					// Recordings: 1,000-byte segments (a 2,500-byte source makes 3), 3 processing per tenant, 64 KiB PUTs.
					bindings: {
						TEST_MIGRATIONS: migrations,
						UPLOAD_MAX_PATCH_BYTES: "6291456",
						RECORDINGS_SEGMENT_BYTES: "1000",
						RECORDINGS_MAX_ACTIVE_PER_TENANT: "3",
						RECORDINGS_ARTIFACT_MAX_BYTES: "65536",
						// Campaigns: sending and the sandbox provider at 1,000/s, so tests are not paced (a test lowers them).
						EMAIL_SEND_RATE_PER_SECOND: "1000",
						EMAIL_SANDBOX_RATE_PER_SECOND: "1000",
						// Notifications: 3 per user and channel per hour, throttled above (the rate-limit test's 4th).
						NOTIFICATIONS_RATE_LIMIT_PER_HOUR: "3",
						NOTIFICATIONS_RATE_LIMIT_MODE: "throttle",
						// Ingest group commit off: the pool runs workers with no_handle_cross_request_promise_resolution
						// (its runner shares promises across requests), which group commit's hand-off needs on, as it is
						// in production. The coalescer is unit-tested here and run end to end in test/e2e/ingest-group-commit.
						TELEMETRY_GROUP_COMMIT_MS: "0",
						// Idempotency shard calls one by one, for the same reason (a concurrent burst of keyed POSTs
						// hung on a shared RPC here); coalesced end to end in test/e2e/idempotency-coalesce*.e2e.mjs.
						IDEMPOTENCY_COALESCE: "false",
					},
				},
			}),
		],
		test: {
			setupFiles: ["./test/setup.ts"],
			testTimeout: 20_000,
		},
	};
});
