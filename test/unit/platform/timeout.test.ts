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

	it("answers with the work's value or error, and a synchronous throw becomes a rejection", async () => {
		await expect(withTimeout(Promise.resolve(7), 100)).resolves.toBe(7);
		await expect(withTimeout(Promise.reject(new Error("refused")), 100)).rejects.toThrow("refused");
		await expect(
			withTimeout(() => {
				throw new Error("thrown before any promise");
			}, 100),
		).rejects.toThrow("thrown before any promise");
	});

	it("times a promise out and leaves its later rejection handled", async () => {
		let rejectLater: (error: Error) => void = () => undefined;
		const late = new Promise<never>((_, reject) => {
			rejectLater = reject;
		});
		await expect(withTimeout(late, 10, "late call")).rejects.toThrow("late call did not finish within 10 ms");
		// The abandoned promise fails afterwards: withTimeout's handler takes it (no unhandled rejection).
		rejectLater(new Error("too late"));
		await new Promise((resolve) => setTimeout(resolve, 5));
	});
});
