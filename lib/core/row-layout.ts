/**
 * Rows read as arrays (column values by position) instead of objects: the fields a row object of
 * the same values would have, in the same order, and where each value sits in the array. The
 * object and the array path must produce the same documents byte for byte, so the layout follows
 * what building the object did:
 * - a name returned twice keeps its first place and the value of its last occurrence (an object
 *   assignment overwrites in place);
 * - names that are array indexes ("0", "42") come first in ascending order (JavaScript's own
 *   property order, which JSON.stringify follows);
 * - `__proto__` is left out (assigning it to a plain object sets its prototype, so the object
 *   never had such a field).
 */

export interface RowLayout {
  /** Field names in the order a row object would list them. */
  names: string[];
  /** For each name, the index of its value in a row array. */
  positions: number[];
}

/** The largest array index is 2^32 - 2 (ECMAScript's array index). */
const MAX_ARRAY_INDEX = 4_294_967_294;

function arrayIndex(name: string): number | null {
  if (!/^(0|[1-9]\d{0,9})$/.test(name)) return null;
  const value = Number(name);
  return value <= MAX_ARRAY_INDEX ? value : null;
}

/** The layout of rows whose values are named by `columns`, without the fields in `omit`. */
export function rowLayout(columns: readonly string[], omit: readonly string[] = []): RowLayout {
  const last = new Map<string, number>();
  columns.forEach((name, position) => {
    if (name !== '__proto__' && !omit.includes(name)) last.set(name, position);
  });
  const names = [...last.keys()];
  const indexes = names.filter((name) => arrayIndex(name) !== null).sort((a, b) => arrayIndex(a)! - arrayIndex(b)!);
  const ordered = indexes.length === 0 ? names : [...indexes, ...names.filter((name) => arrayIndex(name) === null)];
  return { names: ordered, positions: ordered.map((name) => last.get(name)!) };
}

/** Where a row array holds the value of `name` (its last occurrence), or -1 when no column has it. */
export function valuePosition(columns: readonly string[], name: string): number {
  return name === '__proto__' ? -1 : columns.lastIndexOf(name);
}
