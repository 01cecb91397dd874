import { describe, expect, it } from "vitest";
import { createTenant } from "../helpers";
import { authCall, errorCode, logIn, signUp } from "./account-helpers";
import type { Tokens } from "./account-helpers";

function refresh(refreshToken: string, tenant?: string): Promise<Response> {
	return authCall("POST", "/api/v1/auth/refresh", {
		body: { refresh_token: refreshToken },
		...(tenant ? { tenant } : {}),
	});
}

function me(accessToken: string): Promise<Response> {
	return authCall("GET", "/api/v1/auth/me", { token: accessToken });
}

describe("refresh tokens", () => {
	it("rotate on every use: new tokens work, the session stays the same", async () => {
		const { tenantId } = await createTenant();
		const { tokens } = await signUp(tenantId);
		const res = await refresh(tokens.refresh_token, tenantId);
		expect(res.status).toBe(200);
		const next = await res.json<Tokens>();
		expect(next.refresh_token).not.toBe(tokens.refresh_token);
		expect(next.session_id).toBe(tokens.session_id);
		expect((await me(next.access_token)).status).toBe(200);
		expect((await refresh(next.refresh_token)).status).toBe(200);
	});

	it("revoke the whole family when an old token is reused", async () => {
		const { tenantId } = await createTenant();
		const { tokens } = await signUp(tenantId);
		const second = await (await refresh(tokens.refresh_token)).json<Tokens>();
		const third = await (await refresh(second.refresh_token)).json<Tokens>();
		// An attacker replays the first token: refused, and the session is revoked.
		const replay = await refresh(tokens.refresh_token);
		expect(replay.status).toBe(401);
		expect(await errorCode(replay)).toBe("refresh_token_reused");
		// The legitimate holder's newest refresh token and access token die with it.
		const legit = await refresh(third.refresh_token);
		expect(legit.status).toBe(401);
		expect(await errorCode(legit)).toBe("invalid_refresh_token");
		expect((await me(third.access_token)).status).toBe(401);
	});

	it("let only one of two concurrent uses win; the loser revokes the session", async () => {
		const { tenantId } = await createTenant();
		const { tokens } = await signUp(tenantId);
		const results = await Promise.all([refresh(tokens.refresh_token), refresh(tokens.refresh_token)]);
		expect(results.map((r) => r.status).sort((x, y) => x - y)).toEqual([200, 401]);
		const winner = await results.find((r) => r.status === 200)?.json<Tokens>();
		expect(winner).toBeDefined();
		expect((await refresh(winner?.refresh_token ?? "")).status).toBe(401);
	});

	it("are refused for another tenant, malformed or unknown", async () => {
		const a = await createTenant();
		const b = await createTenant();
		const { tokens } = await signUp(a.tenantId);
		const other = await refresh(tokens.refresh_token, b.tenantId);
		expect(other.status).toBe(401);
		expect((await refresh(`fgr_${"A".repeat(43)}`)).status).toBe(401);
		expect((await refresh("not-a-token")).status).toBe(400);
		// The refusal for tenant B spent nothing: tenant A's token still works.
		expect((await refresh(tokens.refresh_token, a.tenantId)).status).toBe(200);
	});
});

describe("logout", () => {
	it("revokes the session: its refresh token and its access token stop working", async () => {
		const { tenantId } = await createTenant();
		const { tokens } = await signUp(tenantId);
		const out = await authCall("POST", "/api/v1/auth/logout", { token: tokens.access_token, body: {} });
		expect(out.status).toBe(200);
		expect(await out.json()).toEqual({ revoked: [tokens.session_id] });
		expect((await me(tokens.access_token)).status).toBe(401);
		expect((await refresh(tokens.refresh_token)).status).toBe(401);
	});

	it("with all: true ends every session of the user and no one else's", async () => {
		const { tenantId } = await createTenant();
		const user = await signUp(tenantId);
		const other = await signUp(tenantId);
		const second = (await (await logIn(tenantId, user.username)).json<{ tokens: Tokens }>()).tokens;
		const out = await authCall("POST", "/api/v1/auth/logout", { token: second.access_token, body: { all: true } });
		expect((await out.json<{ revoked: string[] }>()).revoked.sort()).toEqual(
			[user.tokens.session_id, second.session_id].sort(),
		);
		expect((await refresh(user.tokens.refresh_token)).status).toBe(401);
		expect((await me(other.tokens.access_token)).status).toBe(200);
	});

	it("needs an access token", async () => {
		expect((await authCall("POST", "/api/v1/auth/logout", { body: {} })).status).toBe(401);
	});
});

describe("sessions", () => {
	it("lists the user's live sessions newest first with a cursor, marking the current one", async () => {
		const { tenantId } = await createTenant();
		const { username, tokens } = await signUp(tenantId);
		const logins = [];
		for (let i = 0; i < 2; i++)
			logins.push((await (await logIn(tenantId, username)).json<{ tokens: Tokens }>()).tokens);
		const latest = logins[1];
		if (!latest) throw new Error("no login");
		type Page = { sessions: { id: string; current: boolean }[]; next_cursor: string | null };
		const first = await (
			await authCall("GET", "/api/v1/auth/sessions?limit=2", { token: latest.access_token })
		).json<Page>();
		expect(first.sessions.map((s) => s.id)).toEqual([latest.session_id, logins[0]?.session_id]);
		expect(first.sessions.map((s) => s.current)).toEqual([true, false]);
		expect(first.next_cursor).not.toBeNull();
		const rest = await (
			await authCall("GET", `/api/v1/auth/sessions?limit=2&cursor=${first.next_cursor}`, { token: latest.access_token })
		).json<Page>();
		expect(rest).toEqual({ sessions: [expect.objectContaining({ id: tokens.session_id })], next_cursor: null });
		expect((await authCall("GET", "/api/v1/auth/sessions?limit=500", { token: latest.access_token })).status).toBe(400);
	});

	it("revokes one session by id: its tokens die, the caller's session lives", async () => {
		const { tenantId } = await createTenant();
		const { username, tokens } = await signUp(tenantId);
		const other = (await (await logIn(tenantId, username)).json<{ tokens: Tokens }>()).tokens;
		const res = await authCall("DELETE", `/api/v1/auth/sessions/${tokens.session_id}`, { token: other.access_token });
		expect(res.status).toBe(200);
		expect((await me(tokens.access_token)).status).toBe(401);
		expect((await refresh(tokens.refresh_token)).status).toBe(401);
		expect((await me(other.access_token)).status).toBe(200);
		const again = await authCall("DELETE", `/api/v1/auth/sessions/${tokens.session_id}`, { token: other.access_token });
		expect(again.status).toBe(404);
	});

	it("are a 404 for another user of the tenant and for another tenant's user", async () => {
		const a = await createTenant();
		const b = await createTenant();
		const victim = await signUp(a.tenantId);
		const sameTenant = await signUp(a.tenantId);
		const otherTenant = await signUp(b.tenantId);
		for (const attacker of [sameTenant, otherTenant]) {
			const path = `/api/v1/auth/sessions/${victim.tokens.session_id}`;
			const res = await authCall("DELETE", path, { token: attacker.tokens.access_token });
			expect(res.status).toBe(404);
			const list = await authCall("GET", "/api/v1/auth/sessions", { token: attacker.tokens.access_token });
			const ids = (await list.json<{ sessions: { id: string }[] }>()).sessions.map((s) => s.id);
			expect(ids).not.toContain(victim.tokens.session_id);
		}
		expect((await me(victim.tokens.access_token)).status).toBe(200);
		expect(
			(await authCall("DELETE", "/api/v1/auth/sessions/nonsense", { token: victim.tokens.access_token })).status,
		).toBe(404);
	});
});
