import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../../platform/app-env";
import { AppError } from "../../platform/errors";
import { bearerToken } from "../../platform/bearer";

/** Admits only `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time. */
export function adminAuth(): MiddlewareHandler<AppEnv> {
	return async function adminAuthMiddleware(c, next) {
		const token = bearerToken(c.req.header("Authorization"));
		if (!c.env.ADMIN_TOKEN || !(await sameSecret(token, c.env.ADMIN_TOKEN))) {
			throw new AppError(401, "unauthorized", "A valid admin token is required: Authorization: Bearer <ADMIN_TOKEN>.");
		}
		await next();
	};
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
