import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { validate } from "../platform/validation";
import { EMAIL, EMAIL_TOKEN as TOKEN, PASSWORD, tenantHeader } from "./schemas";
import { endUserAuth } from "./middleware";
import { accountDocs } from "./openapi";
import { clientOf, notifyAfter } from "./notices";
import { forgotPassword, resendVerification, resetPassword, verifyEmail } from "./recovery";

const forgotBody = z
	.object({
		email: EMAIL,
	})
	.strict();
const resetBody = z
	.object({
		token: TOKEN,
		new_password: PASSWORD,
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
