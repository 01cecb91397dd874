import { DurableObject } from "cloudflare:workers";

export type StreamedPost = { post_id: string; author_id: string; created_at: number };

/** Open streams per user at once; one more is refused (a tab storm cannot pin the object). */
const MAX_STREAMS = 5;
const encoder = new TextEncoder();

/**
 * The open home-timeline SSE streams of one end user (`<tenant>:<user>`). The fan-out consumer
 * publishes each new post from a followed author to the followers whose stream is open, so no
 * stream polls anything. Streams live in memory only (a connection cannot outlive its object) and
 * end after their lifetime; nothing is stored, a missed event is on the timeline at the next read.
 */
export class FeedStream extends DurableObject<Env> {
	readonly #writers = new Set<WritableStreamDefaultWriter<Uint8Array>>();

	/** A new stream (GET …/subscribe?seconds=N): a `ready` event, then `post` events until N seconds. */
	override async fetch(request: Request): Promise<Response> {
		if (this.#writers.size >= MAX_STREAMS) return new Response("too many streams", { status: 429 });
		const seconds = Number(new URL(request.url).searchParams.get("seconds") ?? "60");
		const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
		const writer = writable.getWriter();
		this.#writers.add(writer);
		this.#send(writer, `event: ready\ndata: {}\n\n`);
		setTimeout(() => this.#close(writer), Math.min(Math.max(seconds, 1), 300) * 1000);
		return new Response(readable, {
			headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no" },
		});
	}

	/** Writes a `post` event to every open stream; returns how many streams were open. */
	async publish(post: StreamedPost): Promise<number> {
		const frame = `event: post\nid: ${post.post_id}\ndata: ${JSON.stringify(post)}\n\n`;
		for (const writer of this.#writers) this.#send(writer, frame);
		return this.#writers.size;
	}

	#send(writer: WritableStreamDefaultWriter<Uint8Array>, frame: string): void {
		// A write to a stream the client has gone from rejects: forget that stream.
		writer.write(encoder.encode(frame)).catch(() => this.#writers.delete(writer));
	}

	#close(writer: WritableStreamDefaultWriter<Uint8Array>): void {
		if (!this.#writers.delete(writer)) return;
		writer.close().catch(() => undefined);
	}
}
