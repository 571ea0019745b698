/** Helpers of the fault tests: timing, reproducible randomness, service-shaped errors, injected failures. */
import type pg from 'pg';
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


export interface RunUpdateFault {
  /** Names the trigger, its function and its counter. */
  name: string;
  /** When the update fails: a condition on NEW and OLD, e.g. `NEW.batches = 3 AND OLD.batches = 2`. */
  when: string;
  sqlstate: string;
  message: string;
  /** Fail only the first update that meets `when` (a crash that a retry gets past). */
  once?: boolean;
}

/**
 * Makes the state database refuse updates of etl.pipeline_runs, as a crash or a lost connection
 * between two commits would look to the step that records a batch or a run: a trigger raises
 * `sqlstate`. `fired()` counts the updates that met `when`; `remove()` drops trigger and counter.
 */
export async function failRunUpdates(pool: pg.Pool, fault: RunUpdateFault) {
  const counter = `${fault.name}_fired`;
  await pool.query(`
    CREATE SEQUENCE ${counter};
    CREATE FUNCTION ${fault.name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF ${fault.when} THEN
        IF nextval('${counter}') = 1 OR ${fault.once ? 'false' : 'true'} THEN
          RAISE EXCEPTION '${fault.message}' USING ERRCODE = '${fault.sqlstate}';
        END IF;
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER ${fault.name} BEFORE UPDATE ON etl.pipeline_runs FOR EACH ROW EXECUTE FUNCTION ${fault.name}();`);
  return {
    fired: async () => Number((await pool.query<{ n: string }>(`SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS n FROM ${counter}`)).rows[0]!.n),
    remove: async () => void (await pool.query(`DROP TRIGGER ${fault.name} ON etl.pipeline_runs; DROP FUNCTION ${fault.name}(); DROP SEQUENCE ${counter}`)),
  };
}

/**
 * The cursor advance of batch `batch` (1-based) fails once, as a process dying between the
 * target's commit and the checkpoint would (SQLSTATE 08006: a lost connection, retried).
 */
export function failCheckpointOnce(pool: pg.Pool, batch: number) {
  return failRunUpdates(pool, {
    name: 'crash_before_checkpoint',
    when: `NEW.batches = ${batch} AND OLD.batches = ${batch - 1}`,
    sqlstate: '08006',
    message: 'injected: the process died before the checkpoint',
    once: true,
  });
}
