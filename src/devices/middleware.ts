import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv, TenantPrincipal } from "../platform/app-env";
import type { DeviceLookup } from "./db";
import { findDeviceByTokenHash } from "./db";
import { parseRouteLimits } from "../gateway/limiter/route-limits";
import { hashSecret, isWellFormedApiKey } from "../gateway/tenants/domain";
import { isWellFormedDeviceToken } from "./domain";
import {
	isFresh,
	MAX_SKEW_SECONDS,
	NONCE_HEADER,
	NONCE_PATTERN,
	SIGNATURE_HEADER,
	TIMESTAMP_HEADER,
	verifyParts,
} from "./request-signing";
import { sha256Hex } from "../platform/crypto";
import { AppError } from "../platform/errors";
import { rememberDeviceTimezone } from "./slots/service";
import { bearerToken } from "../platform/bearer";
import { tenantAuth } from "../gateway/tenants/middleware";
import { TtlCache } from "../platform/ttl-cache";

type CachedDevice = {
	principal: TenantPrincipal | null;
	revoked: boolean;
	signingSecret: string | null;
};

const MAX_CACHED_DEVICES = 20_000;

// Isolate-wide cache of verified device tokens (plain data), like tenant-auth's key cache: D1 is
// not on every device request's path. Rotation and revocation clear it here at once; other
// isolates follow within AUTH_CACHE_SECONDS.
// The TTL is per entry (AUTH_CACHE_SECONDS is an env var); the constructor's is only a default.
const deviceCache = new TtlCache<string, CachedDevice>({ ttlMs: 60_000, maxEntries: MAX_CACHED_DEVICES });

/**
 * Accepts a tenant API key (gateway mode: acting for any of the tenant's devices) or a device
 * token (`Authorization: Bearer fg_dev_…`), which sets `principal.deviceId`. A device with a
 * signing secret must also sign the request (src/devices/request-signing.ts). Revoked or unknown
 * credentials get 401; use `assertActsAs` in the handler to keep a device to its own id.
 */
export function deviceOrTenantAuth(): MiddlewareHandler<AppEnv> {
	const tenant = tenantAuth();
	return async function deviceOrTenantAuthMiddleware(c, next) {
		const token = bearerToken(c.req.header("Authorization"));
		if (isWellFormedApiKey(token)) return tenant(c, next);
		if (!isWellFormedDeviceToken(token)) {
			throw new AppError(
				401,
				"unauthorized",
				"Malformed credentials: expected an API key (fg_live_…) or a device token (fg_dev_…).",
			);
		}
		const entry = await lookup(c.env.DB, await hashSecret(token), Number(c.env.AUTH_CACHE_SECONDS) * 1000);
		if (entry.revoked) throw new AppError(401, "unauthorized", "This device token has been revoked.");
		if (!entry.principal?.deviceId) throw new AppError(401, "unauthorized", "Unknown device token.");
		if (entry.signingSecret !== null)
			await verifySignature(c, entry.principal.deviceId, entry.principal.tenantId, entry.signingSecret);
		c.set("principal", entry.principal);
		await next();
	};
}

/** 403 unless the caller may act as `deviceId`: a tenant key may act for any device, a device only for itself. */
export function assertActsAs(c: Context<AppEnv>, deviceId: string): void {
	const own = c.get("principal").deviceId;
	if (own !== undefined && own !== deviceId) {
		throw new AppError(
			403,
			"forbidden",
			`This device token belongs to device '${own}' and may not act as '${deviceId}'.`,
		);
	}
}

/** Drops an isolate's cached credentials of a device (after rotation or revocation). */
export function forgetDevice(tenantId: string, deviceId: string): void {
	deviceCache.deleteWhere((entry) => entry.principal?.tenantId === tenantId && entry.principal.deviceId === deviceId);
}

async function verifySignature(c: Context<AppEnv>, deviceId: string, tenantId: string, secret: string): Promise<void> {
	const timestamp = Number(c.req.header(TIMESTAMP_HEADER));
	const nonce = c.req.header(NONCE_HEADER) ?? "";
	const signature = c.req.header(SIGNATURE_HEADER) ?? "";
	if (!signature || !nonce || !c.req.header(TIMESTAMP_HEADER)) {
		throw new AppError(
			401,
			"signature_required",
			`This device signs its requests: send ${TIMESTAMP_HEADER}, ${NONCE_HEADER} and ${SIGNATURE_HEADER}.`,
		);
	}
	if (!NONCE_PATTERN.test(nonce))
		throw new AppError(401, "invalid_signature", "The nonce must be 8-64 of letters, digits, '_' and '-'.");
	const now = Date.now();
	if (!isFresh(timestamp, now)) {
		throw new AppError(
			401,
			"clock_skew",
			`The request timestamp is more than ${MAX_SKEW_SECONDS} s from the server's clock.`,
			{ server_time: Math.floor(now / 1000) },
		);
	}
	const url = new URL(c.req.url);
	const body = await c.req.arrayBuffer();
	const parts = {
		method: c.req.method,
		pathWithQuery: url.pathname + url.search,
		timestamp,
		nonce,
		bodySha256: await sha256Hex(body),
	};
	if (!(await verifyParts(secret, parts, signature)))
		throw new AppError(401, "invalid_signature", "The request signature does not match.");
	// Claimed only after the signature checks out, so forged requests cannot burn a device's nonces.
	const stub = c.env.DEVICE_NONCES.getByName(`${tenantId}:${deviceId}`);
	const claim = await stub.claim(nonce, (timestamp + MAX_SKEW_SECONDS + 1) * 1000);
	if (!claim.ok)
		throw new AppError(401, "nonce_reused", "This nonce was already used; sign each request with a fresh nonce.");
}

async function lookup(db: D1Database, hash: string, ttlMs: number): Promise<CachedDevice> {
	const now = Date.now();
	const cached = deviceCache.get(hash, now);
	if (cached) return cached;
	const row = await findDeviceByTokenHash(db, hash);
	if (row)
		rememberDeviceTimezone(
			row.tenant_id,
			row.device_id,
			row.kind === "vending" && row.revoked_at === null ? row.timezone : null,
			now,
		);
	const entry: CachedDevice = {
		principal: row ? principalOf(row) : null,
		revoked: row?.revoked_at != null,
		signingSecret: row?.signing_secret ?? null,
	};
	deviceCache.set(hash, entry, ttlMs, now);
	return entry;
}

function principalOf(row: DeviceLookup): TenantPrincipal {
	return {
		tenantId: row.tenant_id,
		tenantName: row.tenant_name,
		// Not an API key: names the credential in logs; api_key rate-limit rules skip device callers.
		apiKeyId: `device:${row.device_id}`,
		routeLimits: parseRouteLimits(row.route_limits),
		deviceId: row.device_id,
	};
}
