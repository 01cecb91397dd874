import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../platform/app-env";
import { AppError } from "../platform/errors";
import { validate } from "../platform/validation";
import { ACCOUNT_LIMITS, REFRESH_TOKEN_PATTERN, USERNAME_PATTERN, normalizeLogin, passwordProblem } from "./domain";
import { EMAIL, PASSWORD, SECOND_FACTOR, tenantHeader } from "./schemas";
import { emailChangeRoutes } from "./email-change-routes";
import { keyRoutes } from "./key-routes";
import { recoveryRoutes } from "./recovery-routes";
import { sendSignupVerification } from "./recovery";
import { endUserAuth } from "./middleware";
import { clientOf, notifyAfter } from "./notices";
import { accountDocs } from "./openapi";
import { changePassword, forgetSession, login, refresh, signup, userJson, weakPassword } from "./service";
import { sessionRoutes } from "./session-routes";
import { revokeSession, revokeUserSessions } from "./sessions-db";
import { totpRoutes } from "./totp-routes";
import { findUser } from "./users-db";

const LOGIN = z.string().min(1).max(ACCOUNT_LIMITS.maxEmail).transform(normalizeLogin);

const optionalTenantHeader = tenantHeader.partial();
const signupBody = z
	.object({
		username: z
			.string()
			.transform(normalizeLogin)
			.pipe(
				z
					.string()
					.min(ACCOUNT_LIMITS.minUsername)
					.max(ACCOUNT_LIMITS.maxUsername)
					.regex(USERNAME_PATTERN, "letters, digits, '.', '_' and '-', starting and ending with a letter or digit"),
			),
		email: EMAIL,
		password: PASSWORD,
	})
	.strict();
const loginBody = z
	.object({
		login: LOGIN.describe("The username or e-mail address."),
		password: PASSWORD,
		...SECOND_FACTOR,
	})
	.strict();
const refreshBody = z.object({ refresh_token: z.string().regex(REFRESH_TOKEN_PATTERN, "a refresh token") }).strict();
const logoutBody = z.object({ all: z.boolean().default(false) }).strict();
const passwordBody = z.object({ current_password: PASSWORD, new_password: PASSWORD }).strict();

/** Signup, login, refresh and logout of a tenant's end users; sessions, TOTP and keys are mounted below. */
const credentialRoutes = new Hono<AppEnv>()
	.post("/signup", accountDocs.signup, validate("header", tenantHeader), validate("json", signupBody), async (c) => {
		const body = c.req.valid("json");
		const problem = passwordProblem(body.password, body.username, body.email);
		if (problem) throw weakPassword(problem);
		const tenantId = c.req.valid("header")["floodgate-tenant"];
		const created = await signup(c.env, tenantId, body, clientOf(c));
		const recipient = { id: created.user.id, tenant_id: tenantId, username: body.username, email: body.email };
		c.executionCtx.waitUntil(sendSignupVerification(c.env, recipient));
		return c.json(created, 201);
	})
	.post("/login", accountDocs.login, validate("header", tenantHeader), validate("json", loginBody), async (c) => {
		const body = c.req.valid("json");
		const input = {
			login: body.login,
			password: body.password,
			totpCode: body.totp_code,
			recoveryCode: body.recovery_code,
		};
		const tenantId = c.req.valid("header")["floodgate-tenant"];
		const { body: answer, newDevice } = await login(c.env, tenantId, input, clientOf(c));
		if (newDevice) notifyAfter(c, "new_sign_in", tenantId, answer.user.id);
		return c.json(answer);
	})
	.post(
		"/refresh",
		accountDocs.refresh,
		validate("header", optionalTenantHeader),
		validate("json", refreshBody),
		async (c) => {
			const named = c.req.valid("header")["floodgate-tenant"];
			return c.json(await refresh(c.env, c.req.valid("json").refresh_token, named));
		},
	)
	.post("/logout", accountDocs.logout, endUserAuth(), validate("json", logoutBody), async (c) => {
		const { tenantId, userId, sessionId } = c.get("endUser");
		const now = Date.now();
		const revoked = c.req.valid("json").all
			? await revokeUserSessions(c.env.DB, tenantId, userId, "logout_all", now)
			: (await revokeSession(c.env.DB, tenantId, userId, sessionId, "logout", now))
				? [sessionId]
				: [];
		for (const id of revoked) forgetSession(tenantId, id);
		return c.json({ revoked });
	})
	.post("/password", accountDocs.changePassword, endUserAuth(), validate("json", passwordBody), async (c) => {
		const body = c.req.valid("json");
		const who = c.get("endUser");
		const revoked = await changePassword(c.env, who, body.current_password, body.new_password);
		notifyAfter(c, "password_changed", who.tenantId, who.userId);
		return c.json({ changed: true as const, revoked });
	})
	.get("/me", accountDocs.me, endUserAuth(), async (c) => {
		const { tenantId, userId } = c.get("endUser");
		const user = await findUser(c.env.DB, tenantId, userId);
		if (!user) throw new AppError(404, "not_found", "No such user.");
		return c.json(userJson(user));
	});

export const accountRoutes = new Hono<AppEnv>()
	.route("/", credentialRoutes)
	.route("/", recoveryRoutes)
	.route("/", emailChangeRoutes)
	.route("/sessions", sessionRoutes)
	.route("/totp", totpRoutes)
	.route("/keys", keyRoutes);

export { jwksRoutes } from "./key-routes";
