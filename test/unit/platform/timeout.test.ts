import { describe, expect, it } from "vitest";
import { TimeoutError, withTimeout } from "../../../src/platform/timeout";

describe("withTimeout", () => {
	it("awaits a promise that is also callable (a Durable Object RPC promise) instead of calling it", async () => {
		const rpcLike = Object.assign(() => Promise.reject(new Error("called with the signal")), {
			// oxlint-disable-next-line unicorn/no-thenable -- mimics a Durable Object RPC promise: callable and thenable
			then: (resolve: (value: string) => void) => resolve("answer"),
		});
		await expect(withTimeout(rpcLike, 100, "rpc")).resolves.toBe("answer");
	});

	it("passes a signal to a function and aborts it at the deadline", async () => {
		let seen: AbortSignal | undefined;
		const work = withTimeout(
			(signal) => {
				seen = signal;
				return new Promise<never>(() => undefined);
			},
			10,
			"slow call",
		);
		await expect(work).rejects.toBeInstanceOf(TimeoutError);
		expect(seen?.aborted).toBe(true);
	});
});
