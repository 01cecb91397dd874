/** The alert state machine (Prometheus' pending → firing, then resolved). Pure: time is passed in. */

export const ALERT_OPS = [">", "<", ">=", "<="] as const;
export type AlertOp = (typeof ALERT_OPS)[number];
export type AlertStateName = "inactive" | "pending" | "firing" | "resolved";

export type AlertState = {
	state: AlertStateName;
	/** When the condition started to hold (pending and firing). */
	activeSince: number | null;
	firedAt: number | null;
	resolvedAt: number | null;
};

/** Whether `value` breaches the threshold; no data never does. */
export function conditionHolds(value: number | null, op: AlertOp, threshold: number): boolean {
	if (value === null || Number.isNaN(value)) return false;
	if (op === ">") return value > threshold;
	if (op === "<") return value < threshold;
	if (op === ">=") return value >= threshold;
	return value <= threshold;
}

/**
 * One evaluation: a holding condition makes an inactive or resolved rule pending, and a rule
 * pending for at least `forSeconds` fires; a condition that stops holding makes a pending rule
 * inactive again and a firing one resolved.
 */
export function nextAlertState(current: AlertState, holds: boolean, now: number, forSeconds: number): AlertState {
	if (holds) {
		const activeSince = current.state === "pending" || current.state === "firing" ? (current.activeSince ?? now) : now;
		if (current.state === "firing") return current;
		if (now - activeSince >= forSeconds * 1000) return { state: "firing", activeSince, firedAt: now, resolvedAt: null };
		return { state: "pending", activeSince, firedAt: null, resolvedAt: current.resolvedAt };
	}
	if (current.state === "firing")
		return { state: "resolved", activeSince: null, firedAt: current.firedAt, resolvedAt: now };
	if (current.state === "pending")
		return { state: "inactive", activeSince: null, firedAt: null, resolvedAt: current.resolvedAt };
	return current;
}
