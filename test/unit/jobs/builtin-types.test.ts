import { describe, expect, it } from "vitest";
import { BUILTIN_TYPES, isBuiltinType } from "../../../src/jobs/domain";
import { handlerFor } from "../../../src/jobs/handlers/registry";

describe("built-in job types", () => {
	it("has a handler in the registry for every listed built-in type", () => {
		expect(BUILTIN_TYPES.length).toBeGreaterThan(0);
		for (const type of BUILTIN_TYPES) expect(handlerFor(type), type).toBeDefined();
	});

	it("has no handler for a type that is not listed, and does not treat it as built-in", () => {
		for (const type of ["render", "toString", "__proto__"]) {
			expect(handlerFor(type)).toBeUndefined();
			expect(isBuiltinType(type)).toBe(false);
		}
	});
});
