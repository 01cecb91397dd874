import { describe, expect, it } from "vitest";
import {
	DEFAULT_PREFERENCES,
	channelAllowed,
	checkTemplate,
	missingVariables,
	quietHoursEnd,
	renderChannels,
	weightedOrder,
} from "../../../src/notifications/domain";
import type { Priority } from "../../../src/notifications/domain";

const content = {
	email: {
		subject: "Hi {{user.name}}",
		text: "Order {{order}}",
		html: "<p>{{user.name}}</p>{{#items}}{{sku}}{{/items}}",
	},
	sms: { text: "Code {{code}}{{^vip}} {{plan}}{{/vip}}" },
};

describe("missingVariables", () => {
	it("names the dotted paths, sections and inverted-section tags the data lacks, per chosen channel", () => {
		expect(missingVariables(content, ["email"], { user: {} })).toEqual(["items", "order", "user.name"]);
		expect(missingVariables(content, ["sms"], { code: 1 })).toEqual(["plan", "vip"]);
		expect(
			missingVariables(content, ["email", "sms"], {
				user: { name: "A" },
				order: 0,
				items: [],
				code: "",
				vip: true,
				plan: "x",
			}),
		).toEqual([]);
	});

	it("does not check tags inside a section against the top-level data", () => {
		expect(
			missingVariables({ sms: { text: "{{#items}}{{sku}}{{/items}}" } }, ["sms"], { items: [{ sku: "a" }] }),
		).toEqual([]);
	});
});

describe("renderChannels", () => {
	it("escapes HTML in html only and leaves plain-text fields unescaped", () => {
		const out = renderChannels(content, ["email"], { user: { name: "<Bob & Co>" }, order: 7, items: [] });
		expect(out.email?.html).toBe("<p>&lt;Bob &amp; Co&gt;</p>");
		expect(out.email?.subject).toBe("Hi <Bob & Co>");
		expect(out.sms).toBeUndefined();
	});

	it("rejects a template that does not parse", () => {
		expect(() => checkTemplate({ sms: { text: "{{#open}} never closed" } })).toThrow();
	});
});

describe("channelAllowed", () => {
	it("uses the category's setting over the channel's, and allows by default", () => {
		const prefs = {
			...DEFAULT_PREFERENCES,
			channels: { email: false },
			categories: { billing: { email: true, sms: false } },
		};
		expect(channelAllowed(prefs, "billing", "email")).toBe(true);
		expect(channelAllowed(prefs, "billing", "sms")).toBe(false);
		expect(channelAllowed(prefs, "news", "email")).toBe(false);
		expect(channelAllowed(prefs, "news", "in_app")).toBe(true);
	});
});

describe("quietHoursEnd", () => {
	const quiet = { start: "22:00", end: "07:00", time_zone: "Europe/Paris" };
	it("ends overnight quiet hours on the next morning in the user's zone", () => {
		// 2026-01-15 23:30 in Paris (UTC+1) is 22:30 UTC; the end is 07:00 Paris on the 16th = 06:00 UTC.
		expect(quietHoursEnd(quiet, Date.UTC(2026, 0, 15, 22, 30))).toBe(Date.UTC(2026, 0, 16, 6, 0));
		// 05:00 Paris on the 16th: the same morning's end.
		expect(quietHoursEnd(quiet, Date.UTC(2026, 0, 16, 4, 0))).toBe(Date.UTC(2026, 0, 16, 6, 0));
	});

	it("is null outside quiet hours or without them", () => {
		expect(quietHoursEnd(quiet, Date.UTC(2026, 0, 15, 12, 0))).toBeNull();
		expect(quietHoursEnd(null, Date.UTC(2026, 0, 15, 23, 0))).toBeNull();
	});
});

describe("weightedOrder", () => {
	it("serves a backlog in priority order without starving the low ones", () => {
		const items: Priority[] = [
			...Array<Priority>(20).fill("low"),
			...Array<Priority>(20).fill("normal"),
			...Array<Priority>(20).fill("critical"),
		];
		const order = weightedOrder(items, (p) => p);
		expect(order).toHaveLength(60);
		expect(order.slice(0, 8)).toEqual(Array(8).fill("critical"));
		// One low in every round of 8 + 2 + 1 while critical items remain.
		expect(order.slice(0, 11).filter((p) => p === "low")).toHaveLength(1);
		expect(order.indexOf("low")).toBeLessThan(order.lastIndexOf("critical"));
	});
});
