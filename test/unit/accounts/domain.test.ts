import { describe, expect, it } from "vitest";
import {
	ACCOUNT_LIMITS,
	ARGON2_PARAMS,
	constantTimeEqual,
	decodeSessionCursor,
	encodePhc,
	encodeSessionCursor,
	formatRecoveryCode,
	isPublished,
	needsRehash,
	normalizeLogin,
	normalizeRecoveryCode,
	parsePhc,
	passwordProblem,
	rotationDue,
} from "../../../src/accounts/domain";
import { hashPassword, verifyAgainstDecoy, verifyPassword } from "../../../src/accounts/password";

const CHEAP = { m: 256, t: 1, p: 1 };

describe("password rules", () => {
	it("count characters as code points: 8 to 128", () => {
		expect(passwordProblem("a1b2c3d", "u", "u@x.io")).toMatch(/at least 8/);
		expect(passwordProblem("🔒🔒🔒🔒🔒🔒🔒🔒", "u", "u@x.io")).toBeNull();
		expect(passwordProblem("x".repeat(128), "u", "u@x.io")).toBeNull();
		expect(passwordProblem("x".repeat(129), "u", "u@x.io")).toMatch(/at most 128/);
	});

	it("refuse common passwords and the account's own name or address", () => {
		expect(passwordProblem("Password123", "u", "u@x.io")).toMatch(/common/);
		expect(passwordProblem("alice.smith", "alice.smith", "a@x.io")).toMatch(/username/);
		expect(passwordProblem("bob.jones9", "bob", "bob.jones9@x.io")).toMatch(/e-mail/);
		expect(passwordProblem("Tr0ub4dor&3 horse", "u", "u@x.io")).toBeNull();
	});

	it("normalise logins to lowercase NFKC without surrounding space", () => {
		expect(normalizeLogin("  Alice@Example.COM ")).toBe("alice@example.com");
		expect(normalizeLogin("ＡＢＣ")).toBe("abc");
	});
});

describe("PHC strings", () => {
	it("round-trip parameters, salt and hash", () => {
		const salt = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
		const hash = new Uint8Array(32).fill(7);
		const phc = encodePhc(ARGON2_PARAMS, salt, hash);
		expect(phc).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
		expect(parsePhc(phc)).toEqual({ params: ARGON2_PARAMS, salt, hash });
	});

	it("reject other algorithms, versions and garbage", () => {
		expect(parsePhc("$argon2i$v=19$m=19456,t=2,p=1$AAAA$AAAA")).toBeNull();
		expect(parsePhc("$argon2id$v=16$m=19456,t=2,p=1$AAAA$AAAA")).toBeNull();
		expect(parsePhc("plaintext")).toBeNull();
	});

	it("ask for a rehash when memory or passes are below today's", () => {
		expect(needsRehash(ARGON2_PARAMS)).toBe(false);
		expect(needsRehash({ ...ARGON2_PARAMS, m: 4096 })).toBe(true);
		expect(needsRehash({ ...ARGON2_PARAMS, t: 1 })).toBe(true);
		expect(needsRehash({ m: 65_536, t: 3, p: 1 })).toBe(false);
	});
});

describe("Argon2id hashing", () => {
	it("verifies the right password only, with the parameters stored in the hash", () => {
		const phc = hashPassword("correct horse", CHEAP);
		expect(phc).toMatch(/^\$argon2id\$v=19\$m=256,t=1,p=1\$/);
		expect(verifyPassword("correct horse", phc)).toEqual({ ok: true, rehash: true });
		expect(verifyPassword("correct horsf", phc)).toEqual({ ok: false, rehash: false });
		expect(verifyPassword("correct horse", "not a hash")).toEqual({ ok: false, rehash: false });
	});

	it("salts every hash", () => {
		expect(hashPassword("same", CHEAP)).not.toBe(hashPassword("same", CHEAP));
	});

	it("refuses every password on the decoy path (unknown accounts)", () => {
		expect(verifyAgainstDecoy("floodgate-decoy-password")).toBe(false);
		expect(verifyAgainstDecoy("anything")).toBe(false);
	});
});

describe("helpers", () => {
	it("compare bytes in constant time, including different lengths", () => {
		expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
		expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
		expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0]))).toBe(false);
		expect(constantTimeEqual(new Uint8Array([]), new Uint8Array([0]))).toBe(false);
	});

	it("round-trip session cursors and refuse malformed ones", () => {
		const id = `ses_${"a1".repeat(12)}`;
		expect(decodeSessionCursor(encodeSessionCursor(1700000000000, id))).toEqual({ createdAt: 1700000000000, id });
		expect(decodeSessionCursor("1.ses_zz")).toBeNull();
	});

	it("publish a retired key only until its tokens can have expired", () => {
		const now = 1_000_000_000;
		expect(isPublished(null, now)).toBe(true);
		expect(isPublished(now - ACCOUNT_LIMITS.accessTokenSeconds * 1000, now)).toBe(true);
		expect(isPublished(now - ACCOUNT_LIMITS.retiredKeyPublishedSeconds * 1000, now)).toBe(false);
		expect(ACCOUNT_LIMITS.retiredKeyPublishedSeconds).toBeGreaterThan(ACCOUNT_LIMITS.accessTokenSeconds + 60);
	});

	it("rotate a key after 30 days", () => {
		expect(rotationDue(0, 29 * 86_400_000)).toBe(false);
		expect(rotationDue(0, 30 * 86_400_000)).toBe(true);
	});

	it("format recovery codes as xxxxx-xxxxx and read them back however typed", () => {
		const code = formatRecoveryCode(new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
		expect(code).toBe("abcde-fghjk");
		expect(normalizeRecoveryCode(" ABCDE FGHJK ")).toBe(code);
		expect(normalizeRecoveryCode("abcdefghjk")).toBe(code);
	});
});
