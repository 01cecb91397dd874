import {
	createExecutionContext,
	createMessageBatch,
	createScheduledController,
	getQueueResult,
	waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker, { app } from "../../../src/index";
import { BASE } from "../helpers";

afterEach(() => vi.restoreAllMocks());

const STRONG_TOKEN = "a-real-admin-token-from-wrangler-secret-put-0123456789";
const STRONG_KEY = "a-real-sealing-key-from-wrangler-secret-put-9876543210";

/** Production with real secrets, unless overridden. */
function production(overrides: Partial<Env> = {}): Env {
	return {
		...env,
		ENVIRONMENT: "production",
		ADMIN_TOKEN: STRONG_TOKEN,
		SIGNING_SECRETS_KEY: STRONG_KEY,
		OUTBOUND_ALLOW_LOOPBACK_HTTP: "false",
		EMAIL_SANDBOX_ENABLED: "false",
		EMAIL_UNSUBSCRIBE_SECRET: "a-real-unsubscribe-secret-from-wrangler-secret-put-0123",
		NOTIFICATIONS_SMS_SANDBOX_ENABLED: "false",
		NOTIFICATIONS_VAPID_PRIVATE_JWK:
			'{"kty":"EC","crv":"P-256","note":"a production key set with wrangler secret put"}',
		...overrides,
	};
}

async function health(target: Env): Promise<Response> {
	return app.fetch(new Request(`${BASE}/api/v1/health`), target, createExecutionContext());
}

describe("the production deployment guard", () => {
	it("answers 500 misconfigured to every request, logged, while the sandbox is on in production", async () => {
		const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
		const res = await health(production({ SANDBOX_PROCESSOR_ENABLED: "true", ADMIN_TOKEN: STRONG_TOKEN }));
		expect(res.status).toBe(500);
		const body = await res.json<{ error: { code: string; message: string }; request_id: string }>();
		expect(body).toMatchObject({ error: { code: "misconfigured" }, request_id: expect.any(String) });
		// The reasons go to the log only.
		expect(body.error.message).not.toContain("SANDBOX");
		const logged = errors.mock.calls.map((args) => String(args[0])).join("\n");
		expect(logged).toContain("deployment misconfigured");
		expect(logged).toContain("SANDBOX_PROCESSOR_ENABLED");
	});

	it("refuses a development admin token in production, and a missing ENVIRONMENT counts as production", async () => {
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		expect(
			(await health(production({ SANDBOX_PROCESSOR_ENABLED: "false", ADMIN_TOKEN: "local-admin-token-change-me" })))
				.status,
		).toBe(500);
		const unset = { ...env, SANDBOX_PROCESSOR_ENABLED: "false", ENVIRONMENT: "" };
		expect((await health(unset)).status).toBe(500);
	});

	it("refuses the development signing-secrets key in production", async () => {
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const res = await health(
			production({ SANDBOX_PROCESSOR_ENABLED: "false", SIGNING_SECRETS_KEY: env.SIGNING_SECRETS_KEY }),
		);
		expect(res.status).toBe(500);
	});

	it("refuses the local-development outbound flag in production", async () => {
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const res = await health(production({ SANDBOX_PROCESSOR_ENABLED: "false", OUTBOUND_ALLOW_LOOPBACK_HTTP: "true" }));
		expect(res.status).toBe(500);
	});

	it("serves a production deploy with the sandbox off and real secrets, and development as it is", async () => {
		const ok = await health(production({ SANDBOX_PROCESSOR_ENABLED: "false", ADMIN_TOKEN: STRONG_TOKEN }));
		expect(ok.status).toBe(200);
		expect(env.ENVIRONMENT).toBe("development");
		expect((await health(env)).status).toBe(200);
	});

	it("leaves queue batches to retry and skips crons in a misconfigured production deploy", async () => {
		vi.spyOn(console, "error").mockImplementation(() => undefined);
		const bad = production({ SANDBOX_PROCESSOR_ENABLED: "true" });
		const batch = createMessageBatch<unknown>("floodgate-jobs", [
			{ id: "m1", timestamp: new Date(), attempts: 1, body: { not: "a token" } },
		]);
		const ctx = createExecutionContext();
		await worker.queue(batch, bad, ctx);
		const result = await getQueueResult(batch, ctx);
		expect(result.retryBatch.retry).toBe(true);
		expect(result.explicitAcks).toEqual([]);
		const logs = vi.spyOn(console, "log").mockImplementation(() => undefined);
		const cronCtx = createExecutionContext();
		await worker.scheduled(createScheduledController({ cron: "* * * * *", scheduledTime: Date.now() }), bad, cronCtx);
		await waitOnExecutionContext(cronCtx);
		expect(logs.mock.calls.map((args) => String(args[0])).join("\n")).not.toContain("job sweep");
	});
});
