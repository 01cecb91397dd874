import { describe, expect, it } from "vitest";
import { blockedHostReason, checkDestination, policyFromEnv } from "../../../src/platform/destination";

const PROD = { allowLoopbackHttp: false, ownHosts: ["floodgate.example.workers.dev"] };
const LOCAL = { allowLoopbackHttp: true, ownHosts: [] };

describe("the outbound destination policy", () => {
	it("allows public https hosts and addresses", () => {
		for (const url of ["https://receiver.example/hook", "https://93.184.215.14/", "https://[2606:4700::1111]/"]) {
			expect(checkDestination(url, PROD)).toMatchObject({ ok: true });
		}
	});

	it("refuses plain http, other schemes and credentials in the URL", () => {
		for (const url of [
			"http://receiver.example/",
			"ftp://receiver.example/",
			"file:///etc/passwd",
			"https://u:p@receiver.example/",
		]) {
			expect(checkDestination(url, PROD).ok).toBe(false);
		}
	});

	it("refuses loopback, private, link-local, CGNAT and unspecified IPv4 in every notation", () => {
		const hosts = [
			"127.0.0.1",
			"2130706433", // decimal 127.0.0.1
			"0x7f000001",
			"0177.0.0.1", // octal
			"127.1",
			"10.1.2.3",
			"172.16.0.1",
			"172.31.255.255",
			"192.168.1.1",
			"169.254.169.254", // cloud metadata
			"100.64.0.1",
			"0.0.0.0",
			"0",
			"224.0.0.1",
			"255.255.255.255",
		];
		for (const host of hosts) {
			const check = checkDestination(`https://${host}/`, PROD);
			expect(check.ok, host).toBe(false);
		}
	});

	it("refuses loopback, unique-local, link-local, mapped and embedded IPv4 in IPv6", () => {
		const hosts = [
			"[::1]",
			"[::]",
			"[0:0:0:0:0:0:0:1]",
			"[::ffff:127.0.0.1]",
			"[::ffff:7f00:1]",
			"[::ffff:a9fe:a9fe]", // 169.254.169.254 mapped
			"[64:ff9b::10.0.0.1]", // NAT64
			"[2002:c0a8:0101::]", // 6to4 of 192.168.1.1
			"[fc00::1]",
			"[fd12:3456::1]",
			"[fe80::1]",
			"[ff02::1]",
		];
		for (const host of hosts) expect(checkDestination(`https://${host}/`, PROD).ok, host).toBe(false);
		expect(checkDestination("https://[::ffff:8.8.8.8]/", PROD).ok).toBe(true);
	});

	it("refuses local names, single labels and the platform's own host", () => {
		for (const host of [
			"localhost",
			"api.localhost",
			"printer.local",
			"db.internal",
			"intranet",
			"floodgate.example.workers.dev",
			"FLOODGATE.example.workers.dev.",
		]) {
			expect(checkDestination(`https://${host}/`, PROD).ok, host).toBe(false);
		}
	});

	it("allows http to loopback only when local development is switched on", () => {
		expect(checkDestination("http://127.0.0.1:9999/hook", LOCAL)).toMatchObject({ ok: true });
		expect(checkDestination("http://localhost:9999/hook", LOCAL)).toMatchObject({ ok: true });
		expect(checkDestination("http://127.0.0.1:9999/hook", PROD).ok).toBe(false);
		expect(checkDestination("http://10.0.0.1/hook", LOCAL).ok).toBe(false);
		expect(checkDestination("http://receiver.example/", LOCAL).ok).toBe(false);
	});

	it("names the reason", () => {
		expect(blockedHostReason("10.0.0.1")).toMatch(/private/);
		expect(blockedHostReason("receiver.example")).toBeNull();
	});
});

describe("policyFromEnv", () => {
	it("reads the loopback flag and the platform's own hosts (trimmed, lowercased, empty allowed)", () => {
		expect(policyFromEnv({ OUTBOUND_ALLOW_LOOPBACK_HTTP: "false", PLATFORM_HOSTS: "" })).toEqual({
			allowLoopbackHttp: false,
			ownHosts: [],
		});
		expect(
			policyFromEnv({ OUTBOUND_ALLOW_LOOPBACK_HTTP: "true", PLATFORM_HOSTS: " Api.Example.com, x.workers.dev ," }),
		).toEqual({
			allowLoopbackHttp: true,
			ownHosts: ["api.example.com", "x.workers.dev"],
		});
	});
});
