import { Secret, TOTP } from "otpauth";
import QRCode from "qrcode";
import { openText, sealText, sha256Hex } from "../platform/crypto";
import { AppError } from "../platform/errors";
import { ACCOUNT_LIMITS, formatRecoveryCode, normalizeRecoveryCode } from "./domain";
import type { UserRow } from "./users-db";
import {
	claimTotpStep,
	countUnusedRecoveryCodes,
	disableTotp,
	enableTotp,
	replaceRecoveryCodes,
	setPendingTotp,
	useRecoveryCode,
} from "./users-db";

/**
 * TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s, ±1 step) with otpauth. Secrets are sealed
 * at rest; each time step is accepted once (replay); recovery codes are stored as SHA-256 (they are
 * 50-bit random strings, not passwords) and each works once.
 */

const PERIOD = 30;
const WINDOW = 1;

export type SecondFactor = { totpCode?: string | undefined; recoveryCode?: string | undefined };

export async function beginEnrolment(env: Env, user: UserRow, issuer: string, now = Date.now()) {
	if (user.totp_secret_sealed)
		throw new AppError(409, "totp_already_enabled", "TOTP is already enabled; disable it first.");
	const secret = new Secret({ size: 20 });
	await setPendingTotp(
		env.DB,
		user.id,
		await sealText(env.SIGNING_SECRETS_KEY, secret.base32, sealContext(user.id)),
		now,
	);
	const uri = totpOf(secret, issuer, user.username).toString();
	const qrSvg = await QRCode.toString(uri, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
	return { secret: secret.base32, otpauth_uri: uri, qr_svg: qrSvg };
}

/** Confirms the pending enrolment with a first code; returns the recovery codes (shown once). */
export async function confirmEnrolment(env: Env, user: UserRow, code: string, now = Date.now()): Promise<string[]> {
	if (!user.totp_pending_sealed)
		throw new AppError(409, "no_pending_enrolment", "Start with POST /api/v1/auth/totp/enroll.");
	const base32 = await openText(env.SIGNING_SECRETS_KEY, user.totp_pending_sealed, sealContext(user.id));
	const step = matchingStep(base32, code, now);
	if (step === null) throw invalidCode();
	const { codes, hashes } = await newRecoveryCodes();
	if (!(await enableTotp(env.DB, user.id, step, hashes, now)))
		throw new AppError(409, "no_pending_enrolment", "The enrolment changed meanwhile.");
	return codes;
}

/**
 * New recovery codes for a user with TOTP on (shown once; every earlier code stops working), after
 * a second factor: a current TOTP code or one of the old recovery codes (which it spends).
 */
export async function regenerateRecoveryCodes(
	env: Env,
	user: UserRow,
	factor: SecondFactor,
	now = Date.now(),
): Promise<string[]> {
	if (!user.totp_secret_sealed) throw new AppError(409, "totp_not_enabled", "TOTP is not enabled.");
	await checkSecondFactor(env, user, factor, now);
	const { codes, hashes } = await newRecoveryCodes();
	if (!(await replaceRecoveryCodes(env.DB, user.id, hashes, now)))
		throw new AppError(409, "totp_not_enabled", "TOTP was turned off meanwhile.");
	return codes;
}

/** Whether TOTP is on or pending, and how many recovery codes are left unused. */
export async function totpStatus(env: Env, user: UserRow) {
	return {
		enabled: user.totp_secret_sealed !== null,
		pending: user.totp_pending_sealed !== null,
		recovery_codes_remaining: user.totp_secret_sealed === null ? 0 : await countUnusedRecoveryCodes(env.DB, user.id),
	};
}

/** ACCOUNT_LIMITS.recoveryCodes fresh codes and their SHA-256 hashes (only the hashes are stored). */
async function newRecoveryCodes(): Promise<{ codes: string[]; hashes: string[] }> {
	const codes = Array.from({ length: ACCOUNT_LIMITS.recoveryCodes }, () =>
		formatRecoveryCode(crypto.getRandomValues(new Uint8Array(10))),
	);
	return { codes, hashes: await Promise.all(codes.map((c) => sha256Hex(c))) };
}

export async function turnOffTotp(env: Env, user: UserRow, factor: SecondFactor, now = Date.now()): Promise<void> {
	if (!user.totp_secret_sealed) throw new AppError(409, "totp_not_enabled", "TOTP is not enabled.");
	await checkSecondFactor(env, user, factor, now);
	await disableTotp(env.DB, user.id, now);
}

/** Throws 401 `totp_required` without a code, `invalid_totp` for a wrong, replayed or spent one. */
export async function checkSecondFactor(
	env: Env,
	user: UserRow,
	factor: SecondFactor,
	now = Date.now(),
): Promise<void> {
	if (!user.totp_secret_sealed) return;
	if (factor.recoveryCode !== undefined) {
		const hash = await sha256Hex(normalizeRecoveryCode(factor.recoveryCode));
		if (await useRecoveryCode(env.DB, user.id, hash, now)) return;
		throw invalidCode();
	}
	if (factor.totpCode === undefined)
		throw new AppError(401, "totp_required", "This account needs a TOTP code (totp_code) or a recovery code.");
	const base32 = await openText(env.SIGNING_SECRETS_KEY, user.totp_secret_sealed, sealContext(user.id));
	const step = matchingStep(base32, factor.totpCode, now);
	if (step === null || !(await claimTotpStep(env.DB, user.id, step))) throw invalidCode();
}

/** The time step the code belongs to (within ±WINDOW), or null. */
function matchingStep(base32: string, code: string, now: number): number | null {
	const delta = TOTP.validate({
		token: code,
		secret: Secret.fromBase32(base32),
		period: PERIOD,
		window: WINDOW,
		timestamp: now,
	});
	return delta === null ? null : TOTP.counter({ period: PERIOD, timestamp: now }) + delta;
}

function totpOf(secret: Secret, issuer: string, label: string): TOTP {
	return new TOTP({ issuer, label, secret, algorithm: "SHA1", digits: 6, period: PERIOD });
}

function invalidCode(): AppError {
	return new AppError(401, "invalid_totp", "The code is wrong, expired or already used.");
}

function sealContext(userId: string): string {
	return `accounts/totp/${userId}`;
}
