import { describe, expect, it } from "vitest";
import { KNOWN_DEVELOPMENT_SECRETS, misconfigurations } from "../../../src/platform/deployment-guard";

const GOOD = {
	ENVIRONMENT: "production",
	SANDBOX_PROCESSOR_ENABLED: "false",
	ADMIN_TOKEN: "s3cr3t-from-wrangler-secret-put",
	SIGNING_SECRETS_KEY: "another-s3cr3t-from-wrangler-secret-put",
	OUTBOUND_ALLOW_LOOPBACK_HTTP: "false",
};

describe("misconfigurations", () => {
	it("finds nothing wrong with a production deploy that has the sandbox off and real secrets", () => {
		expect(misconfigurations(GOOD)).toEqual([]);
	});

	it("lets development use the sandbox and the development secrets", () => {
		expect(
			misconfigurations({
				ENVIRONMENT: "development",
				SANDBOX_PROCESSOR_ENABLED: "true",
				ADMIN_TOKEN: "local-admin-token-change-me",
				SIGNING_SECRETS_KEY: "local-signing-secrets-key-change-me",
				OUTBOUND_ALLOW_LOOPBACK_HTTP: "true",
			}),
		).toEqual([]);
	});

	it("names the sandbox, a missing or known development admin token in production", () => {
		expect(misconfigurations({ ...GOOD, SANDBOX_PROCESSOR_ENABLED: "true" })).toEqual([
			expect.stringContaining("SANDBOX_PROCESSOR_ENABLED"),
		]);
		expect(misconfigurations({ ...GOOD, ADMIN_TOKEN: "" })).toEqual([
			expect.stringContaining("ADMIN_TOKEN is not set"),
		]);
		for (const secret of KNOWN_DEVELOPMENT_SECRETS)
			expect(misconfigurations({ ...GOOD, ADMIN_TOKEN: secret })).toEqual([
				expect.stringContaining("development value"),
			]);
	});

	it("names a missing or known development SIGNING_SECRETS_KEY in production", () => {
		expect(misconfigurations({ ...GOOD, SIGNING_SECRETS_KEY: "" })).toEqual([
			expect.stringContaining("SIGNING_SECRETS_KEY is not set"),
		]);
		expect(misconfigurations({ ...GOOD, SIGNING_SECRETS_KEY: "local-signing-secrets-key-change-me" })).toEqual([
			expect.stringContaining("development value"),
		]);
	});

	it("names the local-development outbound flag in production", () => {
		expect(misconfigurations({ ...GOOD, OUTBOUND_ALLOW_LOOPBACK_HTTP: "true" })).toEqual([
			expect.stringContaining("OUTBOUND_ALLOW_LOOPBACK_HTTP"),
		]);
	});

	it("treats any ENVIRONMENT other than development as production (fails closed)", () => {
		expect(misconfigurations({ ...GOOD, ENVIRONMENT: "staging", SANDBOX_PROCESSOR_ENABLED: "true" })).toHaveLength(1);
		expect(misconfigurations({ ...GOOD, ENVIRONMENT: "", SANDBOX_PROCESSOR_ENABLED: "true" })).toHaveLength(1);
	});
});
