import { Hono } from "hono";
import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import { PASSWORD, SECOND_FACTOR, TOTP_CODE } from "./schemas";
import { endUserAuth } from "./middleware";
import { notifyAfter } from "./notices";
import { accountDocs } from "./openapi";
import { verifyPassword } from "./password";
import { invalidCredentials } from "./service";
import { beginEnrolment, confirmEnrolment, regenerateRecoveryCodes, totpStatus, turnOffTotp } from "./totp";
import type { UserRow } from "./users-db";
import { findUser } from "./users-db";

const enrollBody = z.object({ password: PASSWORD, issuer: z.string().min(1).max(64).default("Floodgate") }).strict();
const confirmBody = z.object({ code: TOTP_CODE }).strict();
/** Changes to an enabled second factor: the password again, and a current TOTP code or a recovery code. */
const secondFactorBody = z.object({ password: PASSWORD, ...SECOND_FACTOR }).strict();

/** TOTP enrolment and removal for the signed-in end user; changes need the password again. */
export const totpRoutes = new Hono<AppEnv>()
	.get("/", accountDocs.totpStatus, endUserAuth(), async (c) => c.json(await totpStatus(c.env, await currentUser(c))))
	.post("/enroll", accountDocs.totpEnroll, endUserAuth(), validate("json", enrollBody), async (c) => {
		const body = c.req.valid("json");
		const user = await reauthenticated(c, body.password);
		return c.json(await beginEnrolment(c.env, user, body.issuer));
	})
	.post("/confirm", accountDocs.totpConfirm, endUserAuth(), validate("json", confirmBody), async (c) => {
		const user = await currentUser(c);
		const codes = await confirmEnrolment(c.env, user, c.req.valid("json").code);
		notifyAfter(c, "totp_enabled", user.tenant_id, user.id);
		return c.json({ enabled: true as const, recovery_codes: codes });
	})
	.post("/disable", accountDocs.totpDisable, endUserAuth(), validate("json", secondFactorBody), async (c) => {
		const body = c.req.valid("json");
		const user = await reauthenticated(c, body.password);
		await turnOffTotp(c.env, user, { totpCode: body.totp_code, recoveryCode: body.recovery_code });
		notifyAfter(c, "totp_disabled", user.tenant_id, user.id);
		return c.json({ enabled: false as const });
	})
	.post(
		"/recovery-codes",
		accountDocs.totpRecoveryCodes,
		endUserAuth(),
		validate("json", secondFactorBody),
		async (c) => {
			const body = c.req.valid("json");
			const user = await reauthenticated(c, body.password);
			const codes = await regenerateRecoveryCodes(c.env, user, {
				totpCode: body.totp_code,
				recoveryCode: body.recovery_code,
			});
			notifyAfter(c, "recovery_codes_regenerated", user.tenant_id, user.id);
			return c.json({ recovery_codes: codes });
		},
	);

async function currentUser(c: Context<AppEnv>): Promise<UserRow> {
	const { tenantId, userId } = c.get("endUser");
	const user = await findUser(c.env.DB, tenantId, userId);
	if (!user) throw new AppError(404, "not_found", "No such user.");
	return user;
}

async function reauthenticated(c: Context<AppEnv>, password: string): Promise<UserRow> {
	const user = await currentUser(c);
	if (!verifyPassword(password, user.password_hash).ok) throw invalidCredentials();
	return user;
}
