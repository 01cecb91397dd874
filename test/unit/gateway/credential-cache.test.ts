import { describe, expect, it } from "vitest";
import { CredentialCache } from "../../../src/gateway/tenants/credential-cache";

describe("CredentialCache", () => {
	it("keeps a verified credential through a flood of distinct refused ones", () => {
		const cache = new CredentialCache<string>({ maxVerified: 3, maxRejected: 3 });
		cache.remember("good", "tenant-a", 60_000, 0);
		for (let i = 0; i < 1000; i++) cache.reject(`bad-${i}`, "unknown", 60_000, 0);
		expect(cache.recall("good", 1)).toEqual({ verified: "tenant-a" });
		expect(cache.sizes).toEqual({ verified: 1, rejected: 3 });
		expect(cache.recall("bad-999", 1)).toEqual({ rejected: "unknown" });
		expect(cache.recall("bad-0", 1)).toBeUndefined();
	});

	it("evicts only verified entries when verified ones overflow", () => {
		const cache = new CredentialCache<string>({ maxVerified: 2, maxRejected: 2 });
		cache.reject("revoked", "revoked", 60_000, 0);
		for (const key of ["a", "b", "c"]) cache.remember(key, key, 60_000, 0);
		expect(cache.recall("a", 1)).toBeUndefined();
		expect(cache.recall("c", 1)).toEqual({ verified: "c" });
		expect(cache.recall("revoked", 1)).toEqual({ rejected: "revoked" });
	});

	it("lets entries expire and moves a credential between the halves", () => {
		const cache = new CredentialCache<string>({ maxVerified: 2, maxRejected: 2 });
		cache.reject("k", "unknown", 1000, 0);
		expect(cache.recall("k", 1001)).toBeUndefined();
		cache.reject("k", "unknown", 1000, 0);
		cache.remember("k", "v", 1000, 0);
		expect(cache.recall("k", 1)).toEqual({ verified: "v" });
		cache.forgetWhere((v) => v === "v");
		expect(cache.recall("k", 1)).toBeUndefined();
	});
});
