import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { dashboardSession } from "../../dashboard/session-cookie";
import { SESSION_COOKIE } from "../../dashboard/domain";
import type { AppEnv } from "../../platform/app-env";
import { AppError } from "../../platform/errors";
import { bearerToken } from "../../platform/bearer";

/** Admits only `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. */
export function adminAuth(): MiddlewareHandler<AppEnv> {
	return async function adminAuthMiddleware(c, next) {
		if (!(await isAdminCaller(c))) {
			throw new AppError(401, "unauthorized", "A valid admin token is required: Authorization: Bearer <ADMIN_TOKEN>.");
		}
		await next();
	};
}

/**
 * Whether the request carries the admin token, or (without an Authorization header) an operator's
 * dashboard session. A malformed Authorization header is a 401.
 */
export async function isAdminCaller(c: Context<AppEnv>): Promise<boolean> {
	const header = c.req.header("Authorization");
	if (header === undefined && getCookie(c, SESSION_COOKIE)) return (await dashboardSession(c))?.scope === "admin";
	const token = bearerToken(header);
	return Boolean(c.env.ADMIN_TOKEN) && (await sameSecret(token, c.env.ADMIN_TOKEN));
}

/** Constant-time comparison of digests, so neither content nor length leaks through timing. */
export async function sameSecret(a: string, b: string): Promise<boolean> {
	const encoder = new TextEncoder();
	const [da, db] = await Promise.all([
		crypto.subtle.digest("SHA-256", encoder.encode(a)),
		crypto.subtle.digest("SHA-256", encoder.encode(b)),
	]);
	return crypto.subtle.timingSafeEqual(da, db);
}
