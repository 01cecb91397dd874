import { describe, expect, it } from "vitest";
import {
	sendChains,
	backoffMs,
	checkImportRows,
	deliveryKey,
	finalStatus,
	normalizeEmail,
	parseCsv,
	progressOf,
	transition,
} from "../../../src/campaigns/domain";

describe("campaign domain", () => {
	it("normalizes addresses and refuses malformed ones", () => {
		expect(normalizeEmail("  Ann@Example.COM ")).toBe("ann@example.com");
		for (const bad of [
			"",
			"ann",
			"ann@",
			"@example.com",
			"ann@example",
			"a b@example.com",
			"ann@-x.com",
			"<a>@example.com",
		]) {
			expect(normalizeEmail(bad), bad).toBeNull();
		}
	});

	it("deduplicates import rows by address (last wins) and numbers invalid rows from 1", () => {
		const { valid, errors } = checkImportRows([
			{ email: "a@example.com", first_name: "A" },
			{ email: 42 },
			{ email: "A@example.com", first_name: "Again" },
			{ first_name: "nobody" },
		]);
		expect(valid).toEqual([{ email: "a@example.com", first_name: "Again", last_name: "" }]);
		expect(errors).toEqual([
			{ row: 2, email: null, message: "email is missing" },
			{ row: 4, email: null, message: "email is missing" },
		]);
	});

	it("parses RFC 4180 CSV: quotes, escaped quotes, commas and newlines in fields, CRLF, a missing last newline", () => {
		const parsed = parseCsv('Email,First_Name\r\n"a@example.com","Doe, ""J"""\r\nb@example.com,"two\nlines"');
		expect(parsed).toEqual({
			rows: [
				{ email: "a@example.com", first_name: 'Doe, "J"' },
				{ email: "b@example.com", first_name: "two\nlines" },
			],
		});
		expect(parseCsv('email\n"open')).toEqual({ error: "unterminated quoted field" });
		expect(parseCsv("name\nx")).toEqual({ error: "the first row must be a header naming an email column" });
		expect(parseCsv("email\n\n\n")).toEqual({ rows: [] });
	});

	it("keys the ledger by campaign and subscriber", () => {
		expect(deliveryKey("cmp_1", 42)).toBe("cmp_1-42");
	});

	it("backs off exponentially with jitter inside [ceiling/2, ceiling], capped", () => {
		expect(backoffMs(1, 0)).toBe(1000);
		expect(backoffMs(1, 1)).toBe(2000);
		expect(backoffMs(3, 0.5)).toBe(6000);
		expect(backoffMs(30, 1)).toBe(300_000);
		expect(backoffMs(30, 0)).toBe(150_000);
	});

	it("computes progress, rate and ETA from the counters", () => {
		const base = {
			total: 100,
			sent: 40,
			failed: 5,
			bounced: 3,
			suppressed: 2,
			status: "sending" as const,
			started_at: 0,
			finished_at: null,
		};
		expect(progressOf(base, 10_000)).toEqual({ progress: 0.5, rate: 5, eta: 20_000 });
		expect(progressOf({ ...base, status: "paused" }, 10_000).eta).toBeNull();
		expect(progressOf({ ...base, started_at: null }, 10_000)).toEqual({ progress: 0.5, rate: 0, eta: null });
		expect(
			progressOf({ ...base, total: 0, sent: 0, failed: 0, bounced: 0, suppressed: 0, status: "sent" }, 1).progress,
		).toBe(1);
	});

	it("is failed only when nothing was delivered and some recipient failed", () => {
		expect(finalStatus({ total: 2, sent: 0, failed: 2, bounced: 0, suppressed: 0 })).toBe("failed");
		expect(finalStatus({ total: 2, sent: 1, failed: 1, bounced: 0, suppressed: 0 })).toBe("sent");
		expect(finalStatus({ total: 2, sent: 0, failed: 0, bounced: 0, suppressed: 2 })).toBe("sent");
	});

	it("allows each verb only from the statuses it makes sense in, repeating one is a no-op", () => {
		expect(transition("send", "draft")).toBe("sending");
		expect(transition("send", "sending")).toBe("noop");
		expect(transition("send", "cancelled")).toBe("conflict");
		expect(transition("pause", "sending")).toBe("paused");
		expect(transition("pause", "paused")).toBe("noop");
		expect(transition("pause", "draft")).toBe("conflict");
		expect(transition("resume", "paused")).toBe("sending");
		expect(transition("resume", "sent")).toBe("conflict");
		expect(transition("cancel", "sent")).toBe("conflict");
		expect(transition("cancel", "paused")).toBe("cancelled");
	});

	it("clamps the number of send chains to 1..16", () => {
		expect(sendChains("4")).toBe(4);
		expect(sendChains("0")).toBe(1);
		expect(sendChains("99")).toBe(16);
		expect(sendChains("many")).toBe(1);
		expect(sendChains(undefined)).toBe(1);
		expect(sendChains("2.7")).toBe(2);
	});
});
