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
import { assertNotBlocked, failAuthentication } from "../gateway/tenants/auth-failures";
import { CredentialCache } from "../gateway/tenants/credential-cache";

type CachedDevice = {
	principal: TenantPrincipal & { deviceId: string };
	signingSecret: string | null;
};

const MAX_CACHED_DEVICES = 20_000;
const MAX_REJECTED_DEVICE_TOKENS = 10_000;

// Isolate-wide cache of device tokens by hash (plain data), like tenant-auth's key cache: D1 is
// not on every device request's path. Refused tokens are kept apart, so a flood of them evicts no
// verified one. Rotation and revocation clear it here at once; other isolates follow within
// AUTH_CACHE_SECONDS.
const deviceCache = new CredentialCache<CachedDevice>({
	maxVerified: MAX_CACHED_DEVICES,
	maxRejected: MAX_REJECTED_DEVICE_TOKENS,
	name: "device_tokens",
});

/**
 * Accepts a tenant API key (gateway mode: acting for any of the tenant's devices) or a device
 * token (`Authorization: Bearer fg_dev_…`), which sets `principal.deviceId`. A device with a
 * signing secret must also sign the request (src/devices/request-signing.ts). Revoked or unknown
 * credentials get 401; use `assertActsAs` in the handler to keep a device to its own id.
 */
export function deviceOrTenantAuth(): MiddlewareHandler<AppEnv> {
	const tenant = tenantAuth();
	return async function deviceOrTenantAuthMiddleware(c, next) {
		const header = c.req.header("Authorization");
		// No header: the dashboard's session cookie, which tenant auth resolves to its API key.
		if (header === undefined) return tenant(c, next);
		const token = bearerToken(header);
		if (isWellFormedApiKey(token)) return tenant(c, next);
		if (!isWellFormedDeviceToken(token)) {
			throw new AppError(
				401,
				"unauthorized",
				"Malformed credentials: expected an API key (fg_live_…) or a device token (fg_dev_…).",
			);
		}
		const entry = await lookup(c, await hashSecret(token));
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
	deviceCache.forgetWhere((entry) => entry.principal.tenantId === tenantId && entry.principal.deviceId === deviceId);
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

/** A verified device token (cached), or a 401 / 429 that counts against the client IP. */
async function lookup(c: Context<AppEnv>, hash: string): Promise<CachedDevice> {
	const now = Date.now();
	const cached = deviceCache.recall(hash, now);
	if (cached && "verified" in cached) return cached.verified;
	assertNotBlocked(c);
	if (cached) return failAuthentication(c, refusal(cached.rejected === "revoked"));
	const ttlMs = Number(c.env.AUTH_CACHE_SECONDS) * 1000;
	const row = await findDeviceByTokenHash(c.env.DB, hash);
	if (row)
		rememberDeviceTimezone(
			row.tenant_id,
			row.device_id,
			row.kind === "vending" && row.revoked_at === null ? row.timezone : null,
			now,
		);
	if (!row || row.revoked_at !== null) {
		const revoked = row !== null;
		deviceCache.reject(hash, revoked ? "revoked" : "unknown", ttlMs, now);
		return failAuthentication(c, refusal(revoked));
	}
	const entry: CachedDevice = { principal: principalOf(row), signingSecret: row.signing_secret };
	deviceCache.remember(hash, entry, ttlMs, now);
	return entry;
}

function refusal(revoked: boolean): AppError {
	return new AppError(401, "unauthorized", revoked ? "This device token has been revoked." : "Unknown device token.");
}

function principalOf(row: DeviceLookup): TenantPrincipal & { deviceId: string } {
	return {
		tenantId: row.tenant_id,
		tenantName: row.tenant_name,
		// Not an API key: names the credential in logs; api_key rate-limit rules skip device callers.
		apiKeyId: `device:${row.device_id}`,
		routeLimits: parseRouteLimits(row.route_limits),
		deviceId: row.device_id,
	};
}
