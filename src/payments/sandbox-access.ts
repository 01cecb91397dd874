import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { hmacSha256, timingSafeEqualText, toHex } from "../platform/crypto";
import { sameSecret } from "../gateway/tenants/admin-auth";

/**
 * Who may call the built-in sandbox processor: the platform itself (the payment client, through
 * the SELF service binding, with a per-deployment caller token) or an operator with the admin
 * token. Every call names the tenant whose sandbox account it acts on; the platform sends the
 * tenant of the payment, so no caller can reach another tenant's charges, keys or failures.
 */

export const SANDBOX_CALLER_HEADER = "Floodgate-Sandbox-Caller";
export const SANDBOX_TENANT_HEADER = "Floodgate-Tenant-Id";

const TENANT_ID = /^ten_[0-9a-f]{24}$/;
// Domain separation: the caller token is derived from ADMIN_TOKEN but is not it, and is useless elsewhere.
const CALLER_TOKEN_LABEL = "floodgate/sandbox-processor/caller/v1";

/**
 * The per-deployment token the payment client sends: HMAC(ADMIN_TOKEN, label). It changes with the
 * admin token and never leaves the Worker (it is only sent through SELF).
 */
export async function sandboxCallerToken(env: Pick<Env, "ADMIN_TOKEN">): Promise<string | null> {
	if (!env.ADMIN_TOKEN) return null;
	return toHex(await hmacSha256(env.ADMIN_TOKEN, CALLER_TOKEN_LABEL));
}

/** The headers of a platform call to the sandbox on behalf of `tenantId`. */
export async function sandboxCallerHeaders(
	env: Pick<Env, "ADMIN_TOKEN">,
	tenantId: string,
): Promise<Record<string, string>> {
	const token = await sandboxCallerToken(env);
	return { ...(token === null ? {} : { [SANDBOX_CALLER_HEADER]: token }), [SANDBOX_TENANT_HEADER]: tenantId };
}

/**
 * 404 while the sandbox is disabled; 401 without the caller token or the admin token; 400 without a
 * tenant id. Sets nothing: routes read the tenant with `sandboxTenant(c)`.
 */
export function sandboxAccess(): MiddlewareHandler<AppEnv> {
	return async function sandboxAccessMiddleware(c, next) {
		if (c.env.SANDBOX_PROCESSOR_ENABLED !== "true")
			throw new AppError(404, "not_found", "The sandbox processor is disabled.");
		if (!(await isPlatformCaller(c.env, c.req.header(SANDBOX_CALLER_HEADER), c.req.header("Authorization"))))
			throw new AppError(
				401,
				"unauthorized",
				"The sandbox processor answers only the platform itself or the admin token (Authorization: Bearer <ADMIN_TOKEN>).",
			);
		sandboxTenant(c.req.header(SANDBOX_TENANT_HEADER));
		await next();
	};
}

/** The tenant a sandbox call acts for (400 when the header is missing or not a tenant id). */
export function sandboxTenant(header: string | undefined): string {
	if (header === undefined || !TENANT_ID.test(header))
		throw new AppError(
			400,
			"validation_failed",
			`Send the tenant the call acts for: ${SANDBOX_TENANT_HEADER}: ten_….`,
			{
				fields: [{ path: SANDBOX_TENANT_HEADER, message: "a tenant id (ten_ followed by 24 hex digits)" }],
			},
		);
	return header;
}

async function isPlatformCaller(env: Env, callerHeader: string | undefined, authorization: string | undefined) {
	const expected = await sandboxCallerToken(env);
	if (expected === null) return false;
	if (callerHeader !== undefined && timingSafeEqualText(callerHeader, expected)) return true;
	const bearer = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
	return bearer !== undefined && (await sameSecret(bearer, env.ADMIN_TOKEN));
}
