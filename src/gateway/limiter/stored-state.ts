import { z } from "zod";
import type { Policy, PolicyState } from "./domain";
import { ALGORITHMS } from "./domain";

/** A policy and its state as the RateLimiter object stores them (parsed when read back). */
export const storedPolicyStateSchema = z.object({
	policy: z.object({
		name: z.string(),
		algorithm: z.enum(ALGORITHMS),
		limit: z.number(),
		windowSeconds: z.number(),
		burst: z.number().optional(),
		maxDelayMs: z.number().optional(),
	}),
	state: z.discriminatedUnion("kind", [
		z.object({ kind: z.literal("token_bucket"), tokens: z.number(), at: z.number() }),
		z.object({ kind: z.literal("fixed_window"), start: z.number(), count: z.number() }),
		z.object({ kind: z.literal("sliding_window"), start: z.number(), curr: z.number(), prev: z.number() }),
		z.object({
			kind: z.literal("sliding_window_log"),
			at: z.number(),
			entries: z.array(z.object({ at: z.number(), n: z.number() })),
		}),
		z.object({ kind: z.literal("leaky_bucket"), level: z.number(), at: z.number() }),
	]),
}) satisfies z.ZodType<{ policy: Policy; state: PolicyState }>;
