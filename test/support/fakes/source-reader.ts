/**
 * An in-memory source: rows kept in keyset order, read in pages after a cursor as the PostgreSQL
 * reader does (one row looked past the page to know it is the last). Values travel as text.
 */
import type { Cursor } from '../../../lib/core/keyset.ts';
import type { ReadRequest, Row, SourceReader, SourceReaders } from '../../../lib/core/ports.ts';

export interface FakeSource extends SourceReaders {
  rows: Row[];
  /** Every read request, in order. */
  reads: ReadRequest[];
  /** The next read fails with `error`. */
  failNextRead(error: Error): void;
}

const keyOf = (row: Row, keyset: string[]): Cursor => keyset.map((column) => String(row[column] as string | number));

/** Orders keyset values as the test data uses them: numbers as numbers, anything else as text. */
function compare(a: Cursor, b: Cursor): number {
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [a[i]!, b[i]!];
    const diff = /^\d+$/.test(x) && /^\d+$/.test(y) ? Number(x) - Number(y) : x.localeCompare(y);
    if (diff !== 0) return diff;
  }
  return 0;
}

export function createFakeSource(rows: Row[] = []): FakeSource {
  const reads: ReadRequest[] = [];
  let failure: Error | null = null;
  const reader: SourceReader = {
    async readBatch(request) {
      reads.push(request);
      if (failure) {
        const error = failure;
        failure = null;
        throw error;
      }
      const after = request.after;
      const page = source.rows
        .filter((row) => after === null || compare(keyOf(row, request.keyset), after) > 0)
        .filter((row) => request.below === null || String(row[request.keyset[0]!] as string) < request.below)
        .sort((a, b) => compare(keyOf(a, request.keyset), keyOf(b, request.keyset)))
        .slice(0, request.limit + 1);
      const read = page.slice(0, request.limit);
      const last = read.length ? keyOf(read[read.length - 1]!, request.keyset) : null;
      return await Promise.resolve({ rows: structuredClone(read), last, done: page.length <= request.limit });
    },
    async horizon() {
      return await Promise.resolve(null);
    },
  };
  const source: FakeSource = {
    rows,
    reads,
    forConnection: () => reader,
    failNextRead(error) {
      failure = error;
    },
  };
  return source;
}
