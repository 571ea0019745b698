/**
 * What the state machine's task steps share: their input and loop state, their dependencies, and
 * the reader and sink of a pipeline. Every step receives `{ state, execution_name, execution_arn }`
 * (see statemachines/).
 */
import { InvalidDefinitionError, RunStateError } from '../errors.ts';
import { DEFAULT_CONNECTION, type Pipeline } from '../pipeline.ts';
import type { Logger } from '../logger.ts';
import type { DirectMovers, ExecutionStarter, Sink, SinkFactory, SourceReader, SourceReaders, StateStore, TransformCompiler } from '../ports.ts';
import type { ReconcileRuns } from './reconcile-runs.ts';
import type { ScheduleTicks } from './schedule-ticks.ts';

export interface StepInput {
  state: Record<string, unknown>;
  execution_name: string;
  execution_arn: string;
}

/** The loop state carried between the states of one execution. */
export interface LoopState {
  pipeline_id: string;
  run_id: string;
  batches_in_execution: number;
  batches_per_execution: number;
  done: boolean;
  pause_requested: boolean;
}

export interface RunStepsDeps {
  store: StateStore;
  readers: SourceReaders;
  sinks: SinkFactory;
  transforms: TransformCompiler;
  executions: ExecutionStarter;
  logger: Logger;
  /** Batches one execution runs before continuing as a new execution (history stays small). */
  batchesPerExecution: number;
  /** See stale-runs.ts; default 900. */
  staleRunSeconds?: number;
  /** Moves plain Postgres-to-Postgres pages inside the databases; without it every batch reads rows. */
  directMovers?: DirectMovers;
  /** See reconcile-runs.ts; built from store and executions when absent. */
  reconcile?: ReconcileRuns;
  /** Records the outcome of executions started by a schedule (input with `scheduled_at`). */
  ticks?: Pick<ScheduleTicks, 'recordExecutionTick'>;
}

export function createStepContext({ store, readers, sinks }: Pick<RunStepsDeps, 'store' | 'readers' | 'sinks'>) {
  /** The run and, through resumed_from, the failed runs whose cursor it inherited. */
  async function readChain(pipelineId: string, runId: string): Promise<string[]> {
    const ids: string[] = [];
    for (let id: string | null = runId; id !== null && !ids.includes(id); ) {
      ids.push(id);
      id = (await store.getRun(pipelineId, id))?.resumed_from ?? null;
    }
    return ids;
  }

  return {
    readerFor: (pipeline: Pipeline): SourceReader => readers.forConnection(pipeline.source.connection ?? DEFAULT_CONNECTION),
    sinkFor: (pipeline: Pipeline, runId: string): Sink =>
      sinks.forTarget(pipeline.target, { runId, pipelineId: pipeline.id, mode: pipeline.mode, ownRunIds: () => store.runIds(pipeline.id), readRunIds: () => readChain(pipeline.id, runId) }),
  };
}

export type StepContext = ReturnType<typeof createStepContext>;

/** The loop state of a step's input (every step after StartRun has one). */
export function loopState(input: StepInput): LoopState {
  const s = input.state;
  if (typeof s.pipeline_id !== 'string' || typeof s.run_id !== 'string') {
    throw new InvalidDefinitionError('the execution state has no pipeline_id/run_id');
  }
  return s as unknown as LoopState;
}

export function missing(id: string): never {
  throw new RunStateError(`${id} no longer exists`);
}
