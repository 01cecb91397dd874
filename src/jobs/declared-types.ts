import type { JobTypeRow } from "./types-db";
import { listJobTypes } from "./types-db";
import { BUILTIN_TYPES, isBuiltinType } from "./domain";
import { TtlCache } from "../platform/ttl-cache";

export type DeclaredType = {
	type: string;
	mode: "builtin" | "external";
	maxConcurrency: number | null;
	ratePerSecond: number | null;
};

// Isolate cache of declared types (plain data), so enqueue and run paths do not read them per job.
const cache = new TtlCache<string, Map<string, DeclaredType>>({
	ttlMs: 2_000,
	maxEntries: 10_000,
	name: "job_types",
});

/** The tenant's declared types: the built-ins (with any limits set on them) and its external types. */
export async function declaredTypes(db: D1Database, tenantId: string): Promise<Map<string, DeclaredType>> {
	const hit = cache.get(tenantId);
	if (hit) return hit;
	const types = new Map<string, DeclaredType>();
	for (const name of BUILTIN_TYPES)
		types.set(name, { type: name, mode: "builtin", maxConcurrency: null, ratePerSecond: null });
	for (const row of await listJobTypes(db, tenantId)) types.set(row.type, toDeclared(row));
	cache.set(tenantId, types);
	return types;
}

export function forgetDeclaredTypes(tenantId: string): void {
	cache.delete(tenantId);
}

export function toDeclared(row: JobTypeRow): DeclaredType {
	return {
		type: row.type,
		mode: isBuiltinType(row.type) ? "builtin" : "external",
		maxConcurrency: row.max_concurrency,
		ratePerSecond: row.rate_per_second,
	};
}
