import { z } from "zod";
import { randomHex } from "../platform/crypto";
import { TtlCache } from "../platform/ttl-cache";

/**
 * Devices and their credentials. A device token is `fg_dev_` + 40 hex characters (160 random
 * bits), stored only as its SHA-256 like an API key. A signing secret (optional) is 64 hex characters.
 */

export const DEVICE_KINDS = ["vending", "truck"] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

/** Device ids are chosen by the tenant: 1-64 of letters, digits, '.', '_', '-', starting alphanumeric. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const TOKEN_PATTERN = /^fg_dev_[0-9a-f]{40}$/;
const TOKEN_PREFIX_LENGTH = 11;

export const deviceIdSchema = z
	.string()
	.regex(DEVICE_ID_PATTERN, "1-64 of letters, digits, '.', '_', '-', starting with a letter or digit");

export const timezoneSchema = z.string().min(1).max(64).refine(isTimeZone, "not an IANA time zone");

export const newDeviceSchema = z
	.object({
		device_id: deviceIdSchema,
		kind: z.enum(DEVICE_KINDS),
		timezone: timezoneSchema,
		city: z.string().trim().min(1).max(100),
		lat: z.number().min(-90).max(90).optional(),
		lng: z.number().min(-180).max(180).optional(),
		/** Issue a signing secret: the device must then sign every request (HMAC). */
		signed: z.boolean().default(false),
	})
	.strict();

export type NewDevice = z.output<typeof newDeviceSchema>;

export const MAX_BULK_DEVICES = 10_000;

export function generateDeviceToken(): string {
	return `fg_dev_${randomHex(20)}`;
}

export function generateSigningSecret(): string {
	return randomHex(32);
}

export function isWellFormedDeviceToken(candidate: string): boolean {
	return TOKEN_PATTERN.test(candidate);
}

export function deviceTokenPrefix(token: string): string {
	return token.slice(0, TOKEN_PREFIX_LENGTH);
}

// Intl throws RangeError for unknown zones; checking costs a formatter, so remember the answers
// (a day: the runtime's zone data changes only with a deploy of the runtime).
const knownZones = new TtlCache<string, boolean>({ ttlMs: 86_400_000, maxEntries: 2000 });

export function isTimeZone(candidate: string): boolean {
	let known = knownZones.get(candidate);
	if (known === undefined) {
		try {
			// The constructor throws on an unknown zone.
			known = Boolean(new Intl.DateTimeFormat("en-US", { timeZone: candidate }));
		} catch {
			known = false;
		}
		knownZones.set(candidate, known);
	}
	return known;
}
