import { TtlCache } from "../../platform/ttl-cache";

/** Why a credential was refused; remembered so a repeat costs no D1 read. */
export type Rejection = "unknown" | "revoked";

export type CredentialLookup<V> = { verified: V } | { rejected: Rejection } | undefined;

/**
 * An isolate's memory of credentials (API keys, device tokens) by hash: verified ones and refused
 * ones in two separately bounded caches, so a flood of unknown credentials can fill only its own
 * half and never evicts a verified one. Plain data only; each entry has its own expiry.
 */
export class CredentialCache<V> {
	readonly #verified: TtlCache<string, V>;
	readonly #rejected: TtlCache<string, Rejection>;

	/** `name`: counted in GET /metrics as `<name>` (verified) and `<name>_refused`. */
	constructor(options: { maxVerified: number; maxRejected: number; name?: string }) {
		// Every entry is stored with its own TTL (AUTH_CACHE_SECONDS); the defaults are never used.
		this.#verified = new TtlCache({ ttlMs: 0, maxEntries: options.maxVerified, name: options.name });
		this.#rejected = new TtlCache({
			ttlMs: 0,
			maxEntries: options.maxRejected,
			name: options.name === undefined ? undefined : `${options.name}_refused`,
		});
	}

	recall(hash: string, now = Date.now()): CredentialLookup<V> {
		const verified = this.#verified.get(hash, now);
		if (verified !== undefined) return { verified };
		const rejected = this.#rejected.get(hash, now);
		return rejected === undefined ? undefined : { rejected };
	}

	remember(hash: string, value: V, ttlMs: number, now = Date.now()): void {
		this.#rejected.delete(hash);
		this.#verified.set(hash, value, ttlMs, now);
	}

	reject(hash: string, rejection: Rejection, ttlMs: number, now = Date.now()): void {
		this.#verified.delete(hash);
		this.#rejected.set(hash, rejection, ttlMs, now);
	}

	/** Drops verified entries that match (e.g. a tenant's keys after a revocation). */
	forgetWhere(matches: (value: V) => boolean): void {
		this.#verified.deleteWhere(matches);
	}

	get sizes(): { verified: number; rejected: number } {
		return { verified: this.#verified.size, rejected: this.#rejected.size };
	}
}
