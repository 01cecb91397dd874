/**
 * The wording of the security notices mailed after an account change (ASVS 4.0.3 2.2.3, 2.5.5):
 * what changed, when, from which address and device, and what to do if it was not the user. Pure:
 * no I/O. A notice never carries a secret (no password, code or token): only the event's facts.
 */

export const NOTICE_KINDS = [
	"password_changed",
	"password_reset",
	"email_verified",
	"totp_enabled",
	"totp_disabled",
	"recovery_codes_regenerated",
	"new_sign_in",
	"email_changed",
] as const;
export type NoticeKind = (typeof NOTICE_KINDS)[number];

export type NoticeFacts = {
	kind: NoticeKind;
	username: string;
	at: number;
	ip: string;
	userAgent: string | null;
	/** email_changed: the address the account moved to (quoted masked, as n***@example.com). */
	newEmail?: string | undefined;
};

const SUBJECTS: Record<NoticeKind, string> = {
	password_changed: "Your password was changed",
	password_reset: "Your password was reset",
	email_verified: "Your e-mail address was confirmed",
	totp_enabled: "Two-step sign-in (TOTP) was turned on",
	totp_disabled: "Two-step sign-in (TOTP) was turned off",
	recovery_codes_regenerated: "New recovery codes were made for your account",
	new_sign_in: "New sign-in to your account",
	email_changed: "The e-mail address of your account was changed",
};

const WHAT: Record<NoticeKind, string> = {
	password_changed: "The password of your account was changed. Your other sessions were signed out.",
	password_reset:
		"The password of your account was reset with a code sent to this address. Every session was signed out.",
	email_verified: "This e-mail address was confirmed as the address of your account.",
	totp_enabled: "Two-step sign-in with an authenticator app (TOTP) was turned on, and new recovery codes were made.",
	totp_disabled: "Two-step sign-in with an authenticator app (TOTP) was turned off for your account.",
	recovery_codes_regenerated:
		"New recovery codes for two-step sign-in were made for your account; the earlier codes no longer work.",
	new_sign_in: "Your account was signed in to from an address and device it had no session from.",
	email_changed:
		"The e-mail address of your account was changed from this address to {new}. Mails about your " +
		"account, password reset codes included, now go there. Your other sessions were signed out.",
};

const NOT_YOU =
	"If this was you, there is nothing to do.\n\n" +
	'If it was not you: use "Forgot password" in the app now to set a new password (that signs out ' +
	"every session), then review your active sessions and two-step sign-in settings, and contact the " +
	"app's support.";

// After an address change "Forgot password" would mail the new address, so it cannot help here.
const NOT_YOU_EMAIL =
	"If this was you, there is nothing to do.\n\n" +
	"If it was not you: someone who knew your password changed the address. Contact the app's support " +
	"at once and reply from this address; a password reset would now go to the new address.";

/** Longest user agent quoted in a notice (the session row keeps 256 characters). */
export const NOTICE_AGENT_MAX = 200;

export function noticeSubject(kind: NoticeKind): string {
	return SUBJECTS[kind];
}

/** The plain-text body. */
export function noticeText(f: NoticeFacts): string {
	return [
		`Hello ${f.username},`,
		"",
		WHAT[f.kind].replace("{new}", maskEmail(f.newEmail ?? "")),
		"",
		`When: ${new Date(f.at).toISOString().replace("T", " ").slice(0, 19)} UTC`,
		`From: IP address ${printable(f.ip, 64)}`,
		`Device: ${f.userAgent === null ? "unknown" : printable(f.userAgent, NOTICE_AGENT_MAX)}`,
		"",
		f.kind === "email_changed" ? NOT_YOU_EMAIL : NOT_YOU,
	].join("\n");
}

/**
 * An address as a notice quotes it: the first character of the local part, then `***`, then the
 * domain (n***@example.com): enough for the owner to recognise, little for a reader of the old mailbox.
 */
export function maskEmail(email: string): string {
	const at = email.lastIndexOf("@");
	if (at < 1) return "another address";
	const first = Array.from(email.slice(0, at))[0] ?? "";
	return `${printable(first, 1)}***@${printable(email.slice(at + 1), 200)}`;
}

/** One line of the client's own text: control characters (line breaks included) become spaces, capped. */
export function printable(text: string, max: number): string {
	const flat = text.replace(/[\p{Cc}\p{Cf}\u2028\u2029]+/gu, " ").trim();
	// Cut between graphemes: an emoji or accented letter is never split into a broken character.
	const graphemes = Array.from(new Intl.Segmenter().segment(flat), (s) => s.segment);
	return graphemes.length > max ? `${graphemes.slice(0, max - 1).join("")}…` : flat || "unknown";
}
