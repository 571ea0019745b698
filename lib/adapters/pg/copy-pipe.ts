/**
 * COPY out of one session straight into COPY into another: the page's rows travel as PostgreSQL's
 * text format and never become JavaScript values, and the source produces while the target
 * ingests (read and write overlap within the batch).
 *
 * The source side carries user SQL, so it goes through the extended protocol like every other
 * statement with user SQL (pg-copy-streams' COPY TO uses the simple protocol, which would run a
 * second statement): a pg Query in extended mode whose CopyData messages are forwarded. The
 * target side is pg-copy-streams' COPY FROM (platform SQL only). Chunks are gathered into ~64 KB
 * writes (a CopyData message is one row), and the source socket pauses while the target is
 * saturated, so memory stays at a few buffers whatever the page size.
 */
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Writable } from 'node:stream';

const CHUNK_BYTES = 64 * 1024;

interface CopyDataMessage {
  chunk: Buffer;
}

/** The client's socket (pg keeps it on the internal `connection`); paused for back-pressure. */
const socketOf = (client: pg.ClientBase) => (client as unknown as { connection: { stream: NodeJS.ReadableStream } }).connection.stream;

type Callback = (error: Error | null) => void;

/**
 * A COPY ... TO STDOUT sent with the extended protocol, each CopyData payload handed to `onData`.
 * A submittable: pg calls `callback` once, with the error or at ReadyForQuery.
 */
class CopyOutQuery extends (pg.Query as unknown as new (config: { text: string; queryMode: string; callback: Callback }) => object) {
  constructor(
    text: string,
    private readonly onData: (chunk: Buffer) => void,
    callback: Callback,
  ) {
    super({ text, queryMode: 'extended', callback });
  }
  handleCopyData(message: CopyDataMessage): void {
    this.onData(message.chunk);
  }
}

function copyOut(client: pg.ClientBase, text: string, onData: (chunk: Buffer) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const query = new CopyOutQuery(text, onData, (error) => (error ? reject(error) : resolve()));
    void client.query(query as unknown as pg.QueryConfig);
  });
}

/**
 * Runs `copyOutSql` on `source` and `copyInSql` on `target` (which must be inside the caller's
 * transaction) and resolves with the number of rows the target took once both finished. Any
 * failure on either side rejects (the target's through `onTargetError`); the caller rolls back
 * the target and discards the source session.
 */
export async function pipeCopy(source: pg.ClientBase, copyOutSql: string, target: pg.ClientBase, copyInSql: string, onTargetError: (error: unknown) => Promise<never>): Promise<number> {
  const sink = target.query(copyFrom(copyInSql)) as unknown as Writable & { rowCount: number };
  // The target's failures are classified as the target's here; the caller classifies the rest as the source's.
  const finished = new Promise<void>((resolve, reject) => {
    sink.once('finish', resolve);
    sink.once('error', reject);
  }).catch(onTargetError);
  // Awaited at the end; until then a target that fails early (its connection ended) must not be an
  // unhandled rejection, which would end the process (the Lambda container, or the local worker).
  finished.catch(() => undefined);
  const socket = socketOf(source);
  let buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let used = 0;
  // After a target failure the rest of the source's rows are dropped; the failure is reported at the end.
  sink.on('error', () => undefined);
  const write = (chunk: Buffer) => {
    if (sink.destroyed) return;
    if (!sink.write(chunk)) {
      socket.pause();
      sink.once('drain', () => socket.resume());
    }
  };
  const flush = () => {
    if (used === 0) return;
    const full = buffer.subarray(0, used);
    buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    used = 0;
    write(full);
  };
  // The payload is a view of pg's receive buffer: copy it before the next message reuses it.
  const onData = (chunk: Buffer) => {
    if (used + chunk.length > CHUNK_BYTES) flush();
    if (chunk.length > CHUNK_BYTES) {
      write(Buffer.from(chunk));
      return;
    }
    chunk.copy(buffer, used);
    used += chunk.length;
  };
  try {
    await copyOut(source, copyOutSql, onData);
    // The source has finished (ReadyForQuery came): the last chunk needs no back-pressure, and a
    // socket left paused would stall the session's next statement ('drain' never follows end()).
    if (used > 0 && !sink.destroyed) sink.write(buffer.subarray(0, used));
    socket.resume();
    sink.end();
  } catch (error) {
    socket.resume();
    // CopyFail: the target's COPY ends with an error, which the caller's ROLLBACK clears.
    sink.destroy(error instanceof Error ? error : new Error(String(error)));
    await finished.catch(() => undefined);
    throw error;
  }
  await finished;
  return sink.rowCount;
}
