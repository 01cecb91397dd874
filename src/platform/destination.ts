/**
 * Outbound destination policy (pure): which URLs the platform may call on a tenant's behalf.
 * The WHATWG URL parser has already normalised IPv4 in decimal, hex, octal and short forms
 * (`http://2130706433/`, `http://0x7f.1/` → `127.0.0.1`) and IPv6 to its compressed form, so
 * the checks below see one notation per address.
 */

export type DestinationPolicy = {
	/** Allow `http:` (not only `https:`) to loopback: local development only. */
	allowLoopbackHttp: boolean;
	/** Hosts of the platform itself (its own workers.dev / custom domains), always refused. */
	ownHosts: readonly string[];
};

export type DestinationCheck = { ok: true; url: URL } | { ok: false; reason: string };

/** The policy of this deployment: OUTBOUND_ALLOW_LOOPBACK_HTTP ("true" only locally) and PLATFORM_HOSTS. */
export function policyFromEnv(env: {
	OUTBOUND_ALLOW_LOOPBACK_HTTP: string;
	PLATFORM_HOSTS: string;
}): DestinationPolicy {
	return {
		allowLoopbackHttp: env.OUTBOUND_ALLOW_LOOPBACK_HTTP === "true",
		ownHosts: env.PLATFORM_HOSTS.split(",")
			.map((host) => host.trim().toLowerCase())
			.filter((host) => host !== ""),
	};
}

// [first address, prefix length] of every IPv4 range that is not the public internet (RFC 6890).
const BLOCKED_V4: readonly [string, number][] = [
	["0.0.0.0", 8],
	["10.0.0.0", 8],
	["100.64.0.0", 10],
	["127.0.0.0", 8],
	["169.254.0.0", 16],
	["172.16.0.0", 12],
	["192.0.0.0", 24],
	["192.0.2.0", 24],
	["192.88.99.0", 24],
	["192.168.0.0", 16],
	["198.18.0.0", 15],
	["198.51.100.0", 24],
	["203.0.113.0", 24],
	["224.0.0.0", 4],
	["240.0.0.0", 4],
];
const BLOCKED_NAME_SUFFIXES = [".localhost", ".local", ".internal", ".intranet", ".lan", ".home.arpa", ".corp"];

export function checkDestination(raw: string, policy: DestinationPolicy): DestinationCheck {
	let url: URL;
	try {
		url = new URL(raw);
	} catch {
		return { ok: false, reason: "not a valid absolute URL" };
	}
	if (url.username || url.password) return { ok: false, reason: "credentials in the URL are not allowed" };
	const host = url.hostname.toLowerCase().replace(/\.$/, "");
	const loopback = isLoopbackHost(host);
	if (url.protocol === "http:" && loopback && policy.allowLoopbackHttp) return { ok: true, url };
	if (url.protocol !== "https:") return { ok: false, reason: "only https URLs are allowed" };
	if (policy.ownHosts.some((own) => own.toLowerCase() === host))
		return { ok: false, reason: "the platform's own host" };
	const reason = blockedHostReason(host);
	return reason ? { ok: false, reason } : { ok: true, url };
}

/** Why a host (as URL.hostname gives it) is not a public destination, or null when it is. */
export function blockedHostReason(host: string): string | null {
	if (host === "" || host === "localhost" || BLOCKED_NAME_SUFFIXES.some((s) => host.endsWith(s)))
		return "a local or internal host name";
	const v4 = parseIpv4(host);
	if (v4 !== null) return isBlockedV4(v4) ? "a private, loopback or reserved IPv4 address" : null;
	if (host.startsWith("[")) {
		const v6 = parseIpv6(host.slice(1, -1));
		if (!v6) return "an IPv6 address that cannot be checked";
		return isBlockedV6(v6) ? "a private, loopback or reserved IPv6 address" : null;
	}
	if (!host.includes(".")) return "a single-label host name";
	return null;
}

export function isLoopbackHost(host: string): boolean {
	if (host === "localhost" || host.endsWith(".localhost")) return true;
	const v4 = parseIpv4(host);
	if (v4 !== null) return v4 >>> 24 === 127;
	return host === "[::1]";
}

function parseIpv4(host: string): number | null {
	const parts = host.split(".");
	if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
	return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

function isBlockedV4(addr: number): boolean {
	return BLOCKED_V4.some(([base, bits]) => {
		const start = parseIpv4(base) ?? 0;
		const size = 2 ** (32 - bits);
		return addr >= start && addr < start + size;
	});
}

/** 16 bytes of an IPv6 address (compressed or full, with an optional dotted IPv4 tail), or null. */
function parseIpv6(text: string): number[] | null {
	const zone = text.indexOf("%");
	const addr = (zone >= 0 ? text.slice(0, zone) : text).toLowerCase();
	const [head = "", tail, extra] = addr.split("::");
	if (extra !== undefined) return null;
	const groups = (s: string): number[] | null => {
		if (s === "") return [];
		const out: number[] = [];
		const pieces = s.split(":");
		for (const [i, piece] of pieces.entries()) {
			if (i === pieces.length - 1 && piece.includes(".")) {
				const v4 = parseIpv4(piece);
				if (v4 === null) return null;
				out.push(v4 >>> 16, v4 & 0xffff);
			} else if (/^[0-9a-f]{1,4}$/.test(piece)) out.push(Number.parseInt(piece, 16));
			else return null;
		}
		return out;
	};
	const left = groups(head);
	const right = tail === undefined ? [] : groups(tail);
	if (!left || !right) return null;
	const fill = 8 - left.length - right.length;
	if ((tail === undefined && fill !== 0) || fill < 0) return null;
	const all = [...left, ...Array.from({ length: fill }, () => 0), ...right];
	return all.flatMap((g) => [g >>> 8, g & 0xff]);
}

function isBlockedV6(b: number[]): boolean {
	const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
	const v4At = (i: number) =>
		(((b[i] ?? 0) << 24) >>> 0) + ((b[i + 1] ?? 0) << 16) + ((b[i + 2] ?? 0) << 8) + (b[i + 3] ?? 0);
	const first = b[0] ?? 0;
	const second = b[1] ?? 0;
	if (zeros(0, 15) && ((b[15] ?? 0) === 0 || b[15] === 1)) return true; // :: and ::1
	if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return isBlockedV4(v4At(12)); // ::ffff:a.b.c.d
	if (zeros(0, 12)) return isBlockedV4(v4At(12)); // ::a.b.c.d (deprecated compatible form)
	if (first === 0x00 && second === 0x64 && b[2] === 0xff && b[3] === 0x9b) return isBlockedV4(v4At(12)); // 64:ff9b::/96 NAT64
	if (first === 0x20 && second === 0x02) return isBlockedV4(v4At(2)); // 2002::/16 6to4
	if ((first & 0xfe) === 0xfc) return true; // fc00::/7 unique local
	if (first === 0xfe && (second & 0xc0) === 0x80) return true; // fe80::/10 link-local
	if (first === 0xfe && (second & 0xc0) === 0xc0) return true; // fec0::/10 site-local (deprecated)
	if (first === 0xff) return true; // multicast
	if (first === 0x20 && second === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return true; // 2001:db8::/32 documentation
	if (first === 0x01 && zeros(1, 8)) return true; // 100::/64 discard
	return false;
}
