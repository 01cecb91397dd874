import { DurableObject } from "cloudflare:workers";

/**
 * One user's in-app inbox (named `tenant:user`): its items in SQLite, the unread count, and the
 * open SSE streams that get each new item live. A stream closes after SSE_LIFETIME_MS (the client's
 * EventSource reconnects); at most MAX_STREAMS are open per user, the oldest closed first.
 */

export type InboxItem = {
	id: string;
	category: string;
	title: string;
	body: string;
	link: string | null;
	created_at: number;
	read_at: number | null;
};
export type InboxPage = { items: InboxItem[]; unread: number; next_cursor: string | null };

const SSE_LIFETIME_MS = 5 * 60_000;
const MAX_STREAMS = 10;
/** An inbox keeps its newest items only. */
const MAX_ITEMS = 1_000;

type Stream = { writer: WritableStreamDefaultWriter<Uint8Array>; timer: ReturnType<typeof setTimeout> };

export class NotificationInbox extends DurableObject<Env> {
	#streams: Stream[] = [];

	constructor(ctx: DurableObjectState, env: Env) {
		super(ctx, env);
		void ctx.blockConcurrencyWhile(async () => {
			ctx.storage.sql.exec(
				`CREATE TABLE IF NOT EXISTS items (
				   id TEXT PRIMARY KEY, category TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,
				   link TEXT, created_at INTEGER NOT NULL, read_at INTEGER
				 )`,
			);
			ctx.storage.sql.exec("CREATE INDEX IF NOT EXISTS items_by_time ON items(created_at, id)");
		});
	}

	/** Stores an item (idempotent by id) and pushes it to the open streams; false when it was already there. */
	deliver(item: Omit<InboxItem, "read_at">): boolean {
		const cursor = this.ctx.storage.sql.exec(
			`INSERT INTO items (id, category, title, body, link, created_at) VALUES (?, ?, ?, ?, ?, ?)
			 ON CONFLICT (id) DO NOTHING`,
			item.id,
			item.category,
			item.title,
			item.body,
			item.link,
			item.created_at,
		);
		if (cursor.rowsWritten === 0) return false;
		this.ctx.storage.sql.exec(
			"DELETE FROM items WHERE id IN (SELECT id FROM items ORDER BY created_at DESC, id DESC LIMIT -1 OFFSET ?)",
			MAX_ITEMS,
		);
		this.#broadcast("notification", { ...item, read_at: null, unread: this.#unread() });
		return true;
	}

	/** Newest first; the cursor is the last item's `created_at:id`. */
	list(limit: number, cursor: string | null): InboxPage {
		const [at, id] = cursor ? [Number(cursor.split(":")[0]), cursor.slice(cursor.indexOf(":") + 1)] : [null, ""];
		const rows = this.ctx.storage.sql
			.exec<InboxItem>(
				`SELECT id, category, title, body, link, created_at, read_at FROM items
				 WHERE ? IS NULL OR created_at < ? OR (created_at = ? AND id < ?)
				 ORDER BY created_at DESC, id DESC LIMIT ?`,
				at,
				at ?? 0,
				at ?? 0,
				id,
				limit + 1,
			)
			.toArray();
		const items = rows.slice(0, limit);
		const last = items.at(-1);
		return {
			items,
			unread: this.#unread(),
			next_cursor: rows.length > limit && last ? `${last.created_at}:${last.id}` : null,
		};
	}

	/** Marks one item read; false when there is no such item. */
	markRead(id: string, now = Date.now()): boolean {
		const exists = this.ctx.storage.sql.exec("SELECT 1 FROM items WHERE id = ?", id).toArray().length > 0;
		if (!exists) return false;
		this.ctx.storage.sql.exec("UPDATE items SET read_at = ? WHERE id = ? AND read_at IS NULL", now, id);
		this.#broadcast("unread", { unread: this.#unread() });
		return true;
	}

	/** Marks every item read; returns how many were unread. */
	markAllRead(now = Date.now()): number {
		const changed = this.ctx.storage.sql.exec("UPDATE items SET read_at = ? WHERE read_at IS NULL", now).rowsWritten;
		this.#broadcast("unread", { unread: 0 });
		return changed;
	}

	/** An SSE stream: `ready` with the unread count, then `notification` and `unread` events. */
	override fetch(_request: Request): Response {
		const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
		const writer = writable.getWriter();
		const stream: Stream = { writer, timer: setTimeout(() => this.#close(stream), SSE_LIFETIME_MS) };
		while (this.#streams.length >= MAX_STREAMS) {
			const oldest = this.#streams[0];
			if (oldest) this.#close(oldest);
		}
		this.#streams.push(stream);
		this.#write(stream, `retry: 3000\nevent: ready\ndata: ${JSON.stringify({ unread: this.#unread() })}\n\n`);
		return new Response(readable, {
			headers: { "content-type": "text/event-stream", "cache-control": "no-store" },
		});
	}

	#unread(): number {
		const row = this.ctx.storage.sql
			.exec<{ n: number }>("SELECT COUNT(*) AS n FROM items WHERE read_at IS NULL")
			.toArray()[0];
		return row?.n ?? 0;
	}

	#broadcast(event: string, data: unknown): void {
		const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
		for (const stream of this.#streams) this.#write(stream, frame);
	}

	#write(stream: Stream, frame: string): void {
		// A stream whose reader went away fails its write: it is dropped.
		stream.writer.write(new TextEncoder().encode(frame)).catch(() => this.#close(stream));
	}

	#close(stream: Stream): void {
		clearTimeout(stream.timer);
		this.#streams = this.#streams.filter((s) => s !== stream);
		stream.writer.close().catch(() => undefined);
	}
}
