import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { misconfigurations } from "../../../src/platform/deployment-guard";

const PRODUCTION = {
	ENVIRONMENT: "production",
	SANDBOX_PROCESSOR_ENABLED: "false",
	ADMIN_TOKEN: "s3cr3t-from-wrangler-secret-put",
	SIGNING_SECRETS_KEY: "another-s3cr3t-from-wrangler-secret-put",
	OUTBOUND_ALLOW_LOOPBACK_HTTP: "false",
	NOTIFICATIONS_SMS_SANDBOX_ENABLED: "false",
	NOTIFICATIONS_VAPID_PRIVATE_JWK: '{"kty":"EC","crv":"P-256","x":"…","y":"…","d":"a-real-private-scalar"}',
};

describe("the deployment guard and notification settings", () => {
	it("refuses the sandbox SMS provider and the development VAPID key in production only", () => {
		expect(misconfigurations(PRODUCTION)).toEqual([]);
		expect(misconfigurations({ ...PRODUCTION, NOTIFICATIONS_SMS_SANDBOX_ENABLED: "true" })).toEqual([
			"NOTIFICATIONS_SMS_SANDBOX_ENABLED is true (the sandbox SMS provider is for local use only)",
		]);
		// The key .dev.vars.example ships (the tests run with it).
		const devKey = env.NOTIFICATIONS_VAPID_PRIVATE_JWK;
		expect(misconfigurations({ ...PRODUCTION, NOTIFICATIONS_VAPID_PRIVATE_JWK: devKey })).toEqual([
			"NOTIFICATIONS_VAPID_PRIVATE_JWK is the known development key",
		]);
		expect(
			misconfigurations({ ...PRODUCTION, ENVIRONMENT: "development", NOTIFICATIONS_VAPID_PRIVATE_JWK: devKey }),
		).toEqual([]);
	});
});
