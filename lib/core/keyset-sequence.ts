/**
 * The keyset values of a read, row after row (as text, in the read's order): a value equal to the
 * one before it is a repeated key (the read is ordered by the keyset, so repeats are neighbours),
 * within a page, across the sub-pages of one read, and across the page's end (the row read past it).
 */
import { repeatedKeysetError } from './key-integrity.ts';

export interface KeysetSequence {
  /** Takes the next row's keyset values; KeyIntegrityError when they repeat the previous row's. */
  accept(values: (string | null)[]): void;
  /** Some row had a NULL keyset value (the reader then counts them over the whole source). */
  readonly sawNull: boolean;
}

export function keysetSequence(keyset: readonly string[]): KeysetSequence {
  let previous: (string | null)[] | null = null;
  let sawNull = false;
  return {
    accept(values) {
      let nulls = false;
      let same = previous !== null;
      for (let k = 0; k < values.length; k++) {
        if (values[k] === null) nulls = true;
        else if (same && values[k] !== previous![k]) same = false;
      }
      if (nulls) sawNull = true;
      else if (same) throw repeatedKeysetError(values, [...keyset]);
      previous = values;
    },
    get sawNull() {
      return sawNull;
    },
  };
}
