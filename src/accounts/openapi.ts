import { describeRoute } from "hono-openapi";
import { z } from "zod";
import { apiRoute } from "../platform/openapi";
import type { RouteDoc } from "../platform/openapi";

/** Accounts' answers as schemas and their routes' OpenAPI descriptions. */

const userSchema = z
	.object({
		id: z.string(),
		username: z.string(),
		email: z.string(),
		email_verified: z.boolean().describe("Confirmed with POST /api/v1/auth/email/verify (or a password reset)."),
		created_at: z.number().int(),
	})
	.meta({ id: "EndUser" });
const tokensSchema = z
	.object({
		access_token: z.string().describe("A JWT (ES256, typ at+jwt) for Authorization: Bearer; 10 minutes."),
		token_type: z.literal("Bearer"),
		expires_in: z.number().int().describe("Seconds the access token is valid."),
		expires_at: z.number().int(),
		refresh_token: z.string().describe("Opaque, single use: POST /api/v1/auth/refresh returns the next one."),
		session_id: z.string(),
	})
	.meta({ id: "EndUserTokens" });
const sessionSchema = z
	.object({
		id: z.string(),
		created_at: z.number().int(),
		last_used_at: z.number().int(),
		expires_at: z.number().int(),
		user_agent: z.string().nullable(),
		ip: z.string().nullable(),
		current: z.boolean().describe("The session of the access token making this request."),
	})
	.meta({ id: "EndUserSession" });
const jwksSchema = z.object({
	keys: z.array(
		z.object({
			kty: z.string(),
			crv: z.string(),
			x: z.string(),
			y: z.string(),
			kid: z.string(),
			alg: z.string(),
			use: z.string(),
		}),
	),
});

const pub = (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: ["Accounts"], access: "none", ...doc }));
const user = (doc: Omit<RouteDoc, "tags" | "access">) =>
	describeRoute(apiRoute({ tags: ["Accounts"], access: "end_user", ...doc }));

export const accountDocs = {
	signup: pub({
		summary: "Create an end-user account in the tenant named by Floodgate-Tenant, and log in",
		ok: { 201: z.object({ user: userSchema, tokens: tokensSchema }) },
		errors: [409, 429, 503],
	}),
	login: pub({
		summary: "Log in with username or e-mail and password (and a TOTP or recovery code when enabled)",
		description: "One generic 401 invalid_credentials for an unknown account and a wrong password.",
		ok: { 200: z.object({ user: userSchema, tokens: tokensSchema }) },
		errors: [401, 429, 503],
	}),
	refresh: pub({
		summary: "Trade a refresh token for new tokens (the old one is spent; reusing it revokes the session)",
		ok: { 200: tokensSchema },
		errors: [401],
	}),
	logout: user({
		summary: "Revoke this session (or, with all: true, every session of the user)",
		ok: { 200: z.object({ revoked: z.array(z.string()) }) },
	}),
	changePassword: user({
		summary: "Change the password (the current one required); every other session of the user ends",
		ok: { 200: z.object({ changed: z.literal(true), revoked: z.array(z.string()) }) },
		errors: [429, 503],
	}),
	me: user({ summary: "The end user of the access token", ok: { 200: userSchema } }),
	forgotPassword: pub({
		summary: "Ask for a password-reset e-mail (always 202, whether or not the address has an account)",
		description:
			"The e-mail carries a single-use code valid for 20 minutes (only its hash is stored); a newer request " +
			"voids older codes. Throttled per address and per IP (429 either way).",
		ok: { 202: z.object({ accepted: z.literal(true) }) },
		errors: [429, 503],
	}),
	resetPassword: pub({
		summary: "Set a new password with the code from the reset e-mail; every session of the user ends",
		description:
			"400 invalid_token for an unknown, expired, used or another tenant's code; 400 weak_password keeps the code usable.",
		ok: { 200: z.object({ reset: z.literal(true), revoked: z.array(z.string()) }) },
		errors: [429, 503],
	}),
	verifyEmail: pub({
		summary: "Confirm the e-mail address with the code from the verification e-mail (sent at sign-up)",
		ok: { 200: z.object({ verified: z.literal(true) }) },
		errors: [429, 503],
	}),
	resendVerification: user({
		summary: "Send a new verification e-mail (older codes stop working)",
		ok: { 202: z.object({ sent: z.literal(true) }) },
		errors: [409, 429, 503],
	}),
	changeEmail: user({
		summary:
			"Ask to change the e-mail address (password, and a TOTP or recovery code when TOTP is on); a code goes to the new address",
		description:
			"Always 202 once re-authenticated, whether or not the new address is free: a free address gets a single-use " +
			"confirmation code (1 hour, bound to this session); an address another account of the tenant has gets a " +
			"notice instead, and no code. 401 invalid_credentials (wrong password, nothing changes), totp_required, " +
			"invalid_totp; 409 same_email; 429 (the account's login bucket; 3 mails per user per 15 minutes).",
		ok: { 202: z.object({ accepted: z.literal(true) }) },
		errors: [409, 429, 503],
	}),
	confirmEmailChange: pub({
		summary: "Confirm an e-mail change with the code mailed to the new address; the old address is notified",
		description:
			"Swaps the address in one transaction (marked verified), spends every other outstanding e-mail code of the " +
			"user and ends every other session (the asking one stays). 400 invalid_token for an unknown, expired, used, " +
			"superseded or another tenant's code, or when the session that asked has ended; 409 email_taken when another " +
			"account registered the address meanwhile (nothing written).",
		ok: { 200: z.object({ changed: z.literal(true), email: z.string(), revoked: z.array(z.string()) }) },
		errors: [409, 429, 503],
	}),
	sessions: user({
		summary: "The user's live sessions, newest first",
		ok: { 200: z.object({ sessions: z.array(sessionSchema), next_cursor: z.string().nullable() }) },
	}),
	revokeSession: user({
		summary: "Revoke one of the user's sessions (its refresh token and access tokens stop working)",
		ok: { 200: z.object({ id: z.string(), revoked: z.literal(true) }) },
		errors: [404],
	}),
	totpEnroll: user({
		summary: "Start TOTP enrolment (password required): secret, otpauth URI and QR code SVG",
		ok: { 200: z.object({ secret: z.string(), otpauth_uri: z.string(), qr_svg: z.string() }) },
		errors: [409],
	}),
	totpConfirm: user({
		summary: "Confirm TOTP with a first code; answers the recovery codes (shown once)",
		ok: { 200: z.object({ enabled: z.literal(true), recovery_codes: z.array(z.string()) }) },
		errors: [409],
	}),
	totpDisable: user({
		summary: "Turn TOTP off (password and a current TOTP or recovery code required)",
		ok: { 200: z.object({ enabled: z.literal(false) }) },
		errors: [409],
	}),
	totpStatus: user({
		summary: "Whether TOTP is on (or pending confirmation) and how many recovery codes are left unused",
		ok: {
			200: z.object({
				enabled: z.boolean(),
				pending: z.boolean(),
				recovery_codes_remaining: z.number().int(),
			}),
		},
	}),
	totpRecoveryCodes: user({
		summary:
			"New recovery codes, shown once (every earlier code stops working; password and a current TOTP or recovery code required)",
		ok: { 200: z.object({ recovery_codes: z.array(z.string()) }) },
		errors: [409],
	}),
	jwks: pub({
		summary: "The public keys that verify end users' access tokens (JWKS; current and recently retired)",
		ok: { 200: jwksSchema },
	}),
	rotateKey: describeRoute(
		apiRoute({
			tags: ["Accounts"],
			access: "admin",
			summary: "Rotate the access-token signing key now (the old key stays published until its tokens expire)",
			ok: { 200: z.object({ kid: z.string() }) },
		}),
	),
};
