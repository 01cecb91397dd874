import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { validate } from "../platform/validation";
import { EMAIL, EMAIL_TOKEN, PASSWORD, SECOND_FACTOR, tenantHeader } from "./schemas";
import { confirmEmailChange, requestEmailChange } from "./email-change";
import { endUserAuth } from "./middleware";
import { clientOf, notifyAfter } from "./notices";
import { accountDocs } from "./openapi";

const changeBody = z
	.object({
		// Normalised as sign-up's: the address is stored lowercased (NFKC), unique per tenant.
		new_email: EMAIL,
		password: PASSWORD,
		...SECOND_FACTOR,
	})
	.strict();
const confirmBody = z.object({ token: EMAIL_TOKEN }).strict();

/** Changing the e-mail address, mounted under /api/v1/auth. */
export const emailChangeRoutes = new Hono<AppEnv>()
	.post("/email", accountDocs.changeEmail, endUserAuth(), validate("json", changeBody), async (c) => {
		const body = c.req.valid("json");
		const input = {
			newEmail: body.new_email,
			password: body.password,
			totpCode: body.totp_code,
			recoveryCode: body.recovery_code,
		};
		await requestEmailChange(c.env, c.get("endUser"), input, (work) => c.executionCtx.waitUntil(work));
		return c.json({ accepted: true as const }, 202);
	})
	.post(
		"/email/confirm",
		accountDocs.confirmEmailChange,
		validate("header", tenantHeader),
		validate("json", confirmBody),
		async (c) => {
			const tenantId = c.req.valid("header")["floodgate-tenant"];
			const changed = await confirmEmailChange(c.env, tenantId, c.req.valid("json").token, clientOf(c));
			// To the OLD address: the new one has just proved itself; the old one may be the victim's.
			notifyAfter(c, "email_changed", tenantId, changed.userId, { to: changed.oldEmail, newEmail: changed.newEmail });
			return c.json({ changed: true as const, email: changed.newEmail, revoked: changed.revoked });
		},
	);
