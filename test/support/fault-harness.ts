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


/**
 * Makes the cursor advance of batch `batch` (1-based) fail once, as a process dying between the
 * target's commit and the checkpoint would (SQLSTATE 08006: a lost connection, retried). The
 * trigger sits on the state database's etl.pipeline_runs; the returned function removes it.
 */
export async function failCheckpointOnce(statePool: Queryable, batch: number): Promise<() => Promise<void>> {
  await statePool.query(`
    CREATE SEQUENCE IF NOT EXISTS crash_once;
    CREATE OR REPLACE FUNCTION crash_before_checkpoint() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.batches = ${batch} AND OLD.batches = ${batch - 1} AND nextval('crash_once') = 1 THEN
        RAISE EXCEPTION 'injected: the process died before the checkpoint' USING ERRCODE = '08006';
      END IF;
      RETURN NEW;
    END $$;
    CREATE OR REPLACE TRIGGER crash_before_checkpoint BEFORE UPDATE ON etl.pipeline_runs FOR EACH ROW EXECUTE FUNCTION crash_before_checkpoint();`);
  return async () => {
    await statePool.query('DROP TRIGGER crash_before_checkpoint ON etl.pipeline_runs; DROP SEQUENCE crash_once');
  };
}

interface Queryable {
  query(sql: string): Promise<unknown>;
}
