import type { BreakerConfig, BreakerState } from "../payments/breaker-domain";
import { admitCall, CLOSED, recordOutcome } from "../payments/breaker-domain";

/**
 * Load balancing and passive health as pure state transitions. Smooth weighted round robin is
 * nginx's algorithm (ngx_http_upstream_get_peer): each pick adds every eligible peer's weight to its
 * `current`, takes the largest, and subtracts the total from it. Weights 5,1,1 give a,a,b,a,c,a,a:
 * the heavy peer is spread out instead of being picked five times in a row. Passive health is the
 * platform's circuit breaker (src/payments/breaker-domain.ts) per upstream: `failures` failures
 * within the window eject it for the cool-down, then one trial request decides.
 */

export type Peer = { url: string; weight: number; current: number; breaker: BreakerState };

export type PassiveHealth = { failures: number; window_seconds: number; cooldown_seconds: number };

export function newPeers(upstreams: readonly { url: string; weight: number }[]): Peer[] {
	return upstreams.map((u) => ({ url: u.url, weight: u.weight, current: 0, breaker: CLOSED }));
}

export function breakerConfig(health: PassiveHealth): BreakerConfig {
	const cooldownMs = health.cooldown_seconds * 1000;
	return {
		failureThreshold: health.failures,
		windowMs: health.window_seconds * 1000,
		cooldownMs,
		trialTimeoutMs: cooldownMs,
	};
}

/**
 * The next peer by smooth weighted round robin among those `eligible`, or null when none is.
 * Mutates the peers' `current` (the balancer's state).
 */
export function pickWeighted(peers: Peer[], eligible: (peer: Peer) => boolean): Peer | null {
	let total = 0;
	let best: Peer | null = null;
	for (const peer of peers) {
		if (!eligible(peer)) continue;
		peer.current += peer.weight;
		total += peer.weight;
		if (!best || peer.current > best.current) best = peer;
	}
	if (best) best.current -= total;
	return best;
}

/**
 * Picks a peer that is neither ejected nor already tried, admitting it through its breaker (a peer
 * past its cool-down becomes the one trial). `trial` must be reported back with `reportOutcome`.
 * Peers the active health check found down are avoided while any other peer is available.
 */
export function choosePeer(
	peers: Peer[],
	health: PassiveHealth,
	now: number,
	skip: { tried: ReadonlySet<string>; down: ReadonlySet<string> },
): { peer: Peer; trial: boolean } | null {
	const config = breakerConfig(health);
	const admissible = (peer: Peer) =>
		!skip.tried.has(peer.url) && admitCall(peer.breaker, config, now).admission.allowed;
	const anyUp = peers.some((p) => admissible(p) && !skip.down.has(p.url));
	const peer = pickWeighted(peers, (p) => admissible(p) && (!anyUp || !skip.down.has(p.url)));
	if (!peer) return null;
	const { admission, next } = admitCall(peer.breaker, config, now);
	peer.breaker = next;
	return { peer, trial: admission.allowed && admission.trial };
}

/** Records an attempt's outcome on the peer's breaker (a failure may eject it). */
export function reportOutcome(peer: Peer, health: PassiveHealth, now: number, success: boolean, trial: boolean): void {
	peer.breaker = recordOutcome(peer.breaker, breakerConfig(health), now, { success, trial });
}

/** Whether a peer is ejected (open, or half-open with its trial in flight) at `now`. */
export function isEjected(peer: Peer, health: PassiveHealth, now: number): boolean {
	return !admitCall(peer.breaker, breakerConfig(health), now).admission.allowed;
}
