/** A clock the use-case tests move by hand: a run's idle time is what the test says it is. */
export interface FakeClock {
  now(): Date;
  /** Moves time on by `seconds`. */
  advance(seconds: number): void;
  /** The current instant as ISO text, one millisecond after the previous stamp (records keep their order). */
  stamp(): string;
}

export function createFakeClock(start = new Date('2026-01-01T00:00:00Z')): FakeClock {
  let ms = start.getTime();
  return {
    now: () => new Date(ms),
    advance(seconds) {
      ms += seconds * 1000;
    },
    stamp() {
      ms += 1;
      return new Date(ms).toISOString();
    },
  };
}
