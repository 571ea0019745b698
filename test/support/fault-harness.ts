/** Helpers of the fault tests: timing, reproducible randomness, service-shaped errors. */
import type { LoopState } from '../../lib/core/use-cases/run-steps.ts';

export { startRunHarness as startFaultHarness, type RunHarness as FaultHarness, type StepWrapper } from './run-harness.ts';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A seeded PRNG (mulberry32): fault timings that are random but reproducible. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An error with the name Step Functions or the Lambda service would report (Retry matches on it). */
export function serviceError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

/** The loop state a RunBatch returns. */
export const loopState = (result: unknown) => result as LoopState;

