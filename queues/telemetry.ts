import { consumeTelemetryBatch } from "../src/telemetry/consume";

export { idOf } from "../src/telemetry/consume";

/** Consumer of floodgate-telemetry, the live lane: writes as fast as batches come (src/telemetry/consume.ts). */
export async function handleTelemetryBatch(batch: MessageBatch, env: Env, _ctx: ExecutionContext): Promise<void> {
	await consumeTelemetryBatch(batch, env);
}
