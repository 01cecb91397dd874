import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { accountRetentionTargets } from "../../../src/accounts/retention";
import { sweepRetention } from "../../../src/platform/retention";
import { createTenant } from "../helpers";

const DAY = 86_400_000;

async function session(tenantId: string, id: string, endedDaysAgo: number): Promise<void> {
	const end = Date.now() - endedDaysAgo * DAY;
	await env.DB.prepare(
		`INSERT INTO account_sessions (id, tenant_id, user_id, created_at, last_used_at, expires_at)
		 VALUES (?, ?, 'usr_x', ?, ?, ?)`,
	)
		.bind(id, tenantId, end - 30 * DAY, end - 30 * DAY, end)
		.run();
	await env.DB.prepare("INSERT INTO account_refresh_tokens (token_hash, session_id, created_at) VALUES (?, ?, ?)")
		.bind(`hash-${id}`, id, end - 30 * DAY)
		.run();
}

async function exists(table: string, column: string, value: string): Promise<boolean> {
	return (await env.DB.prepare(`SELECT 1 AS x FROM ${table} WHERE ${column} = ?`).bind(value).first()) !== null;
}

describe("account retention", () => {
	it("removes sessions 30 days past their end, their refresh tokens, and long-retired keys; keeps the rest", async () => {
		const { tenantId } = await createTenant();
		const suffix = crypto.randomUUID().slice(0, 8);
		await session(tenantId, `ses_old_${suffix}`, 45);
		await session(tenantId, `ses_recent_${suffix}`, 5);
		await env.DB.prepare(
			`INSERT INTO account_signing_keys (kid, alg, public_jwk, private_sealed, created_at, retired_at)
			 VALUES (?, 'ES256', '{}', 'x', ?, ?), (?, 'ES256', '{}', 'x', ?, ?)`,
		)
			.bind(
				`key_old_${suffix}`,
				Date.now() - 90 * DAY,
				Date.now() - 60 * DAY,
				`key_new_${suffix}`,
				Date.now() - 2 * DAY,
				Date.now() - DAY,
			)
			.run();
		const removed = await sweepRetention(accountRetentionTargets(env, Date.now()));
		expect(removed["accounts.sessions"]).toBeGreaterThanOrEqual(1);
		expect(await exists("account_sessions", "id", `ses_old_${suffix}`)).toBe(false);
		expect(await exists("account_refresh_tokens", "token_hash", `hash-ses_old_${suffix}`)).toBe(false);
		expect(await exists("account_sessions", "id", `ses_recent_${suffix}`)).toBe(true);
		expect(await exists("account_refresh_tokens", "token_hash", `hash-ses_recent_${suffix}`)).toBe(true);
		expect(await exists("account_signing_keys", "kid", `key_old_${suffix}`)).toBe(false);
		expect(await exists("account_signing_keys", "kid", `key_new_${suffix}`)).toBe(true);
	});
});
