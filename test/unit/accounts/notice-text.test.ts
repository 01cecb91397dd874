import { describe, expect, it } from "vitest";
import { NOTICE_KINDS, maskEmail, noticeSubject, noticeText, printable } from "../../../src/accounts/notice-text";

const FACTS = { username: "ada", at: Date.UTC(2026, 10, 29, 6, 40, 5), ip: "203.0.113.9", userAgent: "Browser/1.0" };

describe("security notice wording", () => {
	it("says what changed, when in UTC, from where, and what to do, for every kind", () => {
		const subjects = new Set(NOTICE_KINDS.map(noticeSubject));
		expect(subjects.size).toBe(NOTICE_KINDS.length);
		for (const kind of NOTICE_KINDS) {
			const text = noticeText({ kind, ...FACTS });
			expect(text).toContain("Hello ada,");
			expect(text).toContain("When: 2026-11-29 06:40:05 UTC");
			expect(text).toContain("From: IP address 203.0.113.9");
			expect(text).toContain("Device: Browser/1.0");
			expect(text).toContain("If it was not you");
		}
	});

	it("keeps a client's user agent on one line and caps it without splitting a character", () => {
		const text = noticeText({ kind: "new_sign_in", ...FACTS, userAgent: "Evil\r\nSubject: hi\u0000\u202e" });
		expect(text).toContain("Device: Evil Subject: hi\n");
		expect(printable("👍".repeat(300), 200)).toBe(`${"👍".repeat(199)}…`);
		expect(printable("\n\t", 10)).toBe("unknown");
		expect(noticeText({ kind: "password_reset", ...FACTS, userAgent: null })).toContain("Device: unknown");
	});

	it("quotes a changed address masked, and does not send the old address to Forgot password", () => {
		const text = noticeText({ kind: "email_changed", ...FACTS, newEmail: "nina.smith@example.com" });
		expect(text).toContain("to n***@example.com.");
		expect(text).not.toContain("nina");
		expect(text).not.toContain("Forgot password");
		expect(maskEmail("x@a.io")).toBe("x***@a.io");
		expect(maskEmail("\u0007evil@example.com")).toBe("unknown***@example.com");
		expect(maskEmail("no-at-sign")).toBe("another address");
	});
});
