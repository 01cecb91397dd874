import { describe, expect, it } from "vitest";
import { misconfigurations } from "../../../src/platform/deployment-guard";

const PRODUCTION = {
	ENVIRONMENT: "production",
	SANDBOX_PROCESSOR_ENABLED: "false",
	ADMIN_TOKEN: "s3cr3t-from-wrangler-secret-put",
	SIGNING_SECRETS_KEY: "another-s3cr3t-from-wrangler-secret-put",
	OUTBOUND_ALLOW_LOOPBACK_HTTP: "false",
	EMAIL_SANDBOX_ENABLED: "false",
	EMAIL_UNSUBSCRIBE_SECRET: "a-real-unsubscribe-secret",
};

describe("the deployment guard and email settings", () => {
	it("refuses the sandbox email provider and the development unsubscribe secret in production only", () => {
		expect(misconfigurations(PRODUCTION)).toEqual([]);
		expect(misconfigurations({ ...PRODUCTION, EMAIL_SANDBOX_ENABLED: "true" })).toEqual([
			"EMAIL_SANDBOX_ENABLED is true (the sandbox email provider is for local use only)",
		]);
		expect(
			misconfigurations({ ...PRODUCTION, EMAIL_UNSUBSCRIBE_SECRET: "local-unsubscribe-secret-change-me" }),
		).toEqual(["EMAIL_UNSUBSCRIBE_SECRET is a known development value"]);
		expect(
			misconfigurations({
				...PRODUCTION,
				ENVIRONMENT: "development",
				EMAIL_SANDBOX_ENABLED: "true",
				EMAIL_UNSUBSCRIBE_SECRET: "local-unsubscribe-secret-change-me",
			}),
		).toEqual([]);
	});
});
