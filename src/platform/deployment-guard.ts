import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./app-env";
import { AppError } from "./errors";
import { log } from "./log";

/**
 * A production deploy refuses to serve while a development-only setting or a known development
 * secret is in use: every request answers 500 `misconfigured` (logged), queue batches are left to
 * retry and crons do nothing, until the configuration is fixed. Anything but ENVIRONMENT =
 * "development" counts as production, so a deploy that forgot the variable fails closed.
 */

type GuardedEnv = Pick<
	Env,
	"ENVIRONMENT" | "SANDBOX_PROCESSOR_ENABLED" | "ADMIN_TOKEN" | "SIGNING_SECRETS_KEY" | "OUTBOUND_ALLOW_LOOPBACK_HTTP"
> &
	Partial<
		Pick<
			Env,
			| "EMAIL_SANDBOX_ENABLED"
			| "EMAIL_UNSUBSCRIBE_SECRET"
			| "NOTIFICATIONS_SMS_SANDBOX_ENABLED"
			| "NOTIFICATIONS_VAPID_PRIVATE_JWK"
		>
	>;

/**
 * The committed development values (`.dev.vars.example`, old `wrangler.toml` defaults). A secret
 * equal to one of them is public knowledge.
 */
export const KNOWN_DEVELOPMENT_SECRETS: readonly string[] = [
	"local-admin-token-change-me",
	"local-signing-secrets-key-change-me",
	"dev-jobs-signing-secret",
	"local-unsubscribe-secret-change-me",
];

/** The private scalar of .dev.vars.example's VAPID key (Web Push notifications). */
const DEV_VAPID_D = "90I-BdWh3BTXhspObttdvbJccYkD0_5tZ7Bx0QZq71s";

/** What is wrong with this deployment's configuration; empty when it may serve. */
export function misconfigurations(env: GuardedEnv): string[] {
	if (env.ENVIRONMENT === "development") return [];
	const problems: string[] = [];
	if (env.SANDBOX_PROCESSOR_ENABLED === "true")
		problems.push("SANDBOX_PROCESSOR_ENABLED is true (the sandbox card processor is for local use only)");
	if (env.EMAIL_SANDBOX_ENABLED === "true")
		problems.push("EMAIL_SANDBOX_ENABLED is true (the sandbox email provider is for local use only)");
	if (env.NOTIFICATIONS_SMS_SANDBOX_ENABLED === "true")
		problems.push("NOTIFICATIONS_SMS_SANDBOX_ENABLED is true (the sandbox SMS provider is for local use only)");
	if (env.NOTIFICATIONS_VAPID_PRIVATE_JWK?.includes(DEV_VAPID_D))
		problems.push("NOTIFICATIONS_VAPID_PRIVATE_JWK is the known development key");
	if (env.EMAIL_UNSUBSCRIBE_SECRET && KNOWN_DEVELOPMENT_SECRETS.includes(env.EMAIL_UNSUBSCRIBE_SECRET))
		problems.push("EMAIL_UNSUBSCRIBE_SECRET is a known development value");
	if (env.OUTBOUND_ALLOW_LOOPBACK_HTTP === "true")
		problems.push("OUTBOUND_ALLOW_LOOPBACK_HTTP is true (plain http to loopback is for local development only)");
	if (!env.ADMIN_TOKEN) problems.push("ADMIN_TOKEN is not set");
	else if (KNOWN_DEVELOPMENT_SECRETS.includes(env.ADMIN_TOKEN))
		problems.push("ADMIN_TOKEN is a known development value");
	if (!env.SIGNING_SECRETS_KEY) problems.push("SIGNING_SECRETS_KEY is not set");
	else if (KNOWN_DEVELOPMENT_SECRETS.includes(env.SIGNING_SECRETS_KEY))
		problems.push("SIGNING_SECRETS_KEY is a known development value");
	return problems;
}

/** Logs the problems (with `where`) and says whether the deployment must refuse to work. */
export function refuseMisconfigured(env: GuardedEnv, where: string, requestId?: string): boolean {
	const problems = misconfigurations(env);
	if (problems.length === 0) return false;
	log.error("deployment misconfigured: refusing to serve", {
		where,
		environment: env.ENVIRONMENT,
		problems,
		...(requestId === undefined ? {} : { request_id: requestId }),
	});
	return true;
}

/** The first middleware of the app: 500 `misconfigured` on every request of a misconfigured production deploy. */
export function deploymentGuard(): MiddlewareHandler<AppEnv> {
	return async function deploymentGuardMiddleware(c, next) {
		if (refuseMisconfigured(c.env, "fetch", c.get("requestId"))) {
			// The problems are in the log, not in the answer: they describe the deployment's secrets.
			throw new AppError(
				500,
				"misconfigured",
				"This deployment is misconfigured and refuses to serve. Operators: see the error log.",
			);
		}
		await next();
	};
}
