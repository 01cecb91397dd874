import { z } from "zod";
import { ACCOUNT_LIMITS, EMAIL_PATTERN, EMAIL_TOKEN_PATTERN, TENANT_ID_PATTERN, normalizeLogin } from "./domain";

/** The request fields the accounts routes share, one definition each. */

/** A password as typed (its strength is judged at sign-up and change, not here). */
export const PASSWORD = z
	.string()
	.min(1)
	.max(ACCOUNT_LIMITS.maxPassword * 4);

/** An e-mail address, normalised as sign-up stores it (NFKC, lower-cased; unique per tenant). */
export const EMAIL = z
	.string()
	.transform(normalizeLogin)
	.pipe(z.string().max(ACCOUNT_LIMITS.maxEmail).regex(EMAIL_PATTERN, "an e-mail address"));

/** A 6-digit TOTP code. */
export const TOTP_CODE = z.string().regex(/^\d{6}$/, "6 digits");

/** The second factor of a sensitive change or a login: a current TOTP code or a recovery code. */
export const SECOND_FACTOR = {
	totp_code: TOTP_CODE.optional(),
	recovery_code: z.string().min(10).max(20).optional(),
};

/** A single-use token from an e-mail (verification, reset, address change). */
export const EMAIL_TOKEN = z.string().regex(EMAIL_TOKEN_PATTERN, "a token from the e-mail");

/** The Floodgate-Tenant header that names the tenant on the routes an end user reaches without a token. */
export const tenantHeader = z.object({
	"floodgate-tenant": z.string().regex(TENANT_ID_PATTERN, "a tenant id (ten_ and 24 hex digits)"),
});
