import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { validate } from "../platform/validation";
import { ACCOUNT_LIMITS, EMAIL_PATTERN, EMAIL_TOKEN_PATTERN, TENANT_ID_PATTERN, normalizeLogin } from "./domain";
import { endUserAuth } from "./middleware";
import { accountDocs } from "./openapi";
import { clientOf, notifyAfter } from "./notices";
import { forgotPassword, resendVerification, resetPassword, verifyEmail } from "./recovery";

const tenantHeader = z.object({
	"floodgate-tenant": z.string().regex(TENANT_ID_PATTERN, "a tenant id (ten_ and 24 hex digits)"),
});
const TOKEN = z.string().regex(EMAIL_TOKEN_PATTERN, "a token from the e-mail");
const forgotBody = z
	.object({
		email: z
			.string()
			.transform(normalizeLogin)
			.pipe(z.string().max(ACCOUNT_LIMITS.maxEmail).regex(EMAIL_PATTERN, "an e-mail address")),
	})
	.strict();
const resetBody = z
	.object({
		token: TOKEN,
		new_password: z
			.string()
			.min(1)
			.max(ACCOUNT_LIMITS.maxPassword * 4),
	})
	.strict();
const verifyBody = z.object({ token: TOKEN }).strict();

/** Password reset and e-mail verification, mounted under /api/v1/auth. */
export const recoveryRoutes = new Hono<AppEnv>()
	.post(
		"/password/forgot",
		accountDocs.forgotPassword,
		validate("header", tenantHeader),
		validate("json", forgotBody),
		async (c) => {
			const tenantId = c.req.valid("header")["floodgate-tenant"];
			const client = { ip: c.req.header("CF-Connecting-IP") ?? "unknown", userAgent: null };
			await forgotPassword(c.env, tenantId, c.req.valid("json").email, client, (work) =>
				c.executionCtx.waitUntil(work),
			);
			return c.json({ accepted: true as const }, 202);
		},
	)
	.post(
		"/password/reset",
		accountDocs.resetPassword,
		validate("header", tenantHeader),
		validate("json", resetBody),
		async (c) => {
			const { token, new_password: password } = c.req.valid("json");
			const tenantId = c.req.valid("header")["floodgate-tenant"];
			const { userId, revoked } = await resetPassword(c.env, tenantId, token, password, clientOf(c));
			notifyAfter(c, "password_reset", tenantId, userId);
			return c.json({ reset: true as const, revoked });
		},
	)
	.post(
		"/email/verify",
		accountDocs.verifyEmail,
		validate("header", tenantHeader),
		validate("json", verifyBody),
		async (c) => {
			const tenantId = c.req.valid("header")["floodgate-tenant"];
			const userId = await verifyEmail(c.env, tenantId, c.req.valid("json").token, clientOf(c));
			notifyAfter(c, "email_verified", tenantId, userId);
			return c.json({ verified: true as const });
		},
	)
	.post("/email/verify/resend", accountDocs.resendVerification, endUserAuth(), async (c) => {
		await resendVerification(c.env, c.get("endUser"));
		return c.json({ sent: true as const }, 202);
	});
