import { describe, expect, it } from 'vitest';
import { decideReconciliation, type ReconcileInput } from '../../lib/core/reconcile.ts';

const base: ReconcileInput = {
  pipelineStatus: 'RUNNING',
  run: { status: 'RUNNING', executionName: 'r1-e1', startConfirmed: true, idleSeconds: 5 },
  execution: { status: 'RUNNING' },
  startGraceSeconds: 60,
};
const input = (patch: { pipelineStatus?: ReconcileInput['pipelineStatus']; run?: Partial<ReconcileInput['run']>; execution?: ReconcileInput['execution'] }): ReconcileInput => ({
  ...base,
  pipelineStatus: patch.pipelineStatus ?? base.pipelineStatus,
  run: { ...base.run, ...patch.run },
  execution: patch.execution === undefined ? base.execution : patch.execution,
});

describe('the reconciliation rule (run status + execution status -> what to do)', () => {
  it('keeps a run whose execution is running', () => {
    expect(decideReconciliation(base)).toMatchObject({ action: 'keep' });
  });

  it.each(['FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE'] as const)('fails a running run whose execution ended %s, with the execution error and cause', (status) => {
    const decision = decideReconciliation(input({ execution: { status, error: 'States.Timeout', cause: 'the task timed out' } }));
    expect(decision).toEqual({ action: 'fail', error: { name: 'States.Timeout', message: `execution r1-e1 ended ${status}: the task timed out` } });
  });

  it('names the status when the ended execution gives no error or cause', () => {
    expect(decideReconciliation(input({ execution: { status: 'TIMED_OUT', error: null, cause: null } }))).toEqual({
      action: 'fail',
      error: { name: 'ExecutionTimedOut', message: 'execution r1-e1 ended TIMED_OUT: no cause given' },
    });
    expect(decideReconciliation(input({ execution: { status: 'ABORTED' } }))).toMatchObject({ error: { name: 'ExecutionAborted' } });
  });

  it('fails a run whose owner succeeded without finishing it', () => {
    expect(decideReconciliation(input({ execution: { status: 'SUCCEEDED' } }))).toEqual({
      action: 'fail',
      error: { name: 'ExecutionEndedEarly', message: 'execution r1-e1 ended SUCCEEDED: it succeeded without finishing the run' },
    });
  });

  it.each(['RUN_REQUESTED', 'PAUSE_REQUESTED'] as const)('applies to a %s pipeline too', (pipelineStatus) => {
    expect(decideReconciliation(input({ pipelineStatus, execution: { status: 'ABORTED' } }))).toMatchObject({ action: 'fail' });
  });

  it('fails a paused run whose resuming execution ended before claiming it', () => {
    expect(decideReconciliation(input({ pipelineStatus: 'RUN_REQUESTED', run: { status: 'PAUSED' }, execution: { status: 'ABORTED' } }))).toMatchObject({ action: 'fail' });
  });

  it.each(['IDLE', 'PAUSED', 'SUCCEEDED', 'FAILED'] as const)('leaves a %s pipeline alone whatever its last execution did', (pipelineStatus) => {
    expect(decideReconciliation(input({ pipelineStatus, run: { status: 'PAUSED' }, execution: { status: 'SUCCEEDED' } }))).toMatchObject({ action: 'keep' });
  });

  it('leaves a run alone when Step Functions could not be asked', () => {
    expect(decideReconciliation(input({ execution: null }))).toMatchObject({ action: 'keep', reason: 'Step Functions could not be asked' });
  });

  it('gives a start still in flight its grace period, then fails the run as never started', () => {
    const unknown = { status: 'NOT_FOUND' as const };
    expect(decideReconciliation(input({ pipelineStatus: 'RUN_REQUESTED', run: { startConfirmed: false, idleSeconds: 59 }, execution: unknown }))).toMatchObject({ action: 'keep' });
    expect(decideReconciliation(input({ pipelineStatus: 'RUN_REQUESTED', run: { startConfirmed: false, idleSeconds: 61 }, execution: unknown }))).toEqual({
      action: 'fail',
      error: { name: 'ExecutionNotFound', message: 'execution r1-e1 was never started (no execution after 61 s)' },
    });
  });

  it('fails at once a run whose confirmed execution Step Functions no longer knows', () => {
    expect(decideReconciliation(input({ run: { idleSeconds: 1 }, execution: { status: 'NOT_FOUND' } }))).toEqual({
      action: 'fail',
      error: { name: 'ExecutionNotFound', message: 'execution r1-e1 is unknown to Step Functions (it no longer exists)' },
    });
  });

  it('leaves alone a run without an owning execution (the heartbeat rule of stale-runs.ts judges it)', () => {
    expect(decideReconciliation(input({ run: { executionName: null }, execution: { status: 'NOT_FOUND' } }))).toMatchObject({ action: 'keep' });
  });
});
