import { describe, expect, it } from 'vitest';
import { RunStateError, TransientConflictError } from '../../lib/core/errors.ts';
import { advanceRefusal, assertClaimable, assertHandOver, batchAttempt, decideAdoption, finishTransition, idleSeconds, stillStale, type OwnedRunFacts } from '../../lib/core/run-ownership.ts';
import type { BatchProgress } from '../../lib/core/ports.ts';

const run: OwnedRunFacts = { id: 'r1', pipelineId: 'p1', status: 'RUNNING', executionName: 'r1-e1' };

describe('idle time and staleness of an active run', () => {
  const requestedAt = new Date('2026-01-01T00:00:00Z');

  it('counts from the heartbeat, else from the request', () => {
    expect(idleSeconds(new Date('2026-01-01T00:15:00Z'), { heartbeatAt: null, requestedAt })).toBe(900);
    expect(idleSeconds(new Date('2026-01-01T00:15:00Z'), { heartbeatAt: new Date('2026-01-01T00:14:59.500Z'), requestedAt })).toBe(0.5);
  });

  it('is still stale only while the same run belongs to the same execution and, by heartbeat, is still idle', () => {
    const takeOver = { runId: 'r1', executionName: 'r1-e1', minIdleSeconds: 900, reason: 'no sign of life' };
    const active = { id: 'r1', status: 'RUNNING' as const, executionName: 'r1-e1', idleSeconds: 901 };
    expect(stillStale(takeOver, active)).toBe(true);
    expect(stillStale(takeOver, { ...active, idleSeconds: 3 })).toBe(false);
    expect(stillStale(takeOver, { ...active, executionName: 'r1-e1-tabc' })).toBe(false);
    expect(stillStale({ ...takeOver, minIdleSeconds: null }, { ...active, idleSeconds: 3 })).toBe(true);
    expect(stillStale(takeOver, null)).toBe(false);
    expect(stillStale({ ...takeOver, runId: null, executionName: null }, null)).toBe(true);
  });
});

describe('an execution started with only pipeline_id and the active run', () => {
  it('claims again the run a retried StartRun of the same execution already adopted', () => {
    expect(decideAdoption({ id: 'r1', execution_name: 'outside-1' }, 'outside-1')).toEqual({ action: 'claim-own', runId: 'r1' });
  });

  it("requests a run, reconciling first, when the active run is another execution's", () => {
    expect(decideAdoption({ id: 'r1', execution_name: 'r1-e1' }, 'outside-1')).toEqual({ action: 'request', reconcileFirst: true });
  });

  it('requests a run straight away when nothing is active', () => {
    expect(decideAdoption(null, 'outside-1')).toEqual({ action: 'request', reconcileFirst: false });
  });
});

describe('who may claim, attempt and advance a run', () => {
  it('lets the owner claim a RUNNING or PAUSED run of its pipeline', () => {
    expect(() => assertClaimable(run, 'p1', 'r1-e1')).not.toThrow();
    expect(() => assertClaimable({ ...run, status: 'PAUSED' }, 'p1', 'r1-e1')).not.toThrow();
  });

  it('refuses a claim of another pipeline run, of a finished run, or by another execution', () => {
    expect(() => assertClaimable(run, 'p2', 'r1-e1')).toThrow(new RunStateError('run r1 does not belong to pipeline p2'));
    expect(() => assertClaimable({ ...run, status: 'FAILED' }, 'p1', 'r1-e1')).toThrow(new RunStateError('run r1 is FAILED and cannot be started'));
    expect(() => assertClaimable(run, 'p1', 'r1-e2')).toThrow(new RunStateError('run r1 belongs to execution r1-e1, not r1-e2'));
  });

  it('counts an attempt at the batch already attempted as a retry', () => {
    expect(batchAttempt({ ...run, batches: 2, attemptedBatch: 2 }, 'r1-e1')).toEqual({ retry: false });
    expect(batchAttempt({ ...run, batches: 2, attemptedBatch: 3 }, 'r1-e1')).toEqual({ retry: true });
  });

  it('refuses a batch attempt on a run that is not running or not owned', () => {
    expect(() => batchAttempt({ ...run, status: 'PAUSED', batches: 0, attemptedBatch: 0 }, 'r1-e1')).toThrow(new RunStateError('run r1 is PAUSED'));
    expect(() => batchAttempt({ ...run, batches: 0, attemptedBatch: 0 }, 'r1-e2')).toThrow(new RunStateError('run r1 belongs to execution r1-e1'));
  });

  const progress: BatchProgress = { runId: 'r1', pipelineId: 'p1', from: ['10'], to: ['20'], rowsRead: 10, rowsWritten: 10, rowsDropped: 0, checkpoint: false, executionName: 'r1-e1' };
  const current = { ...run, cursor: ['10'] };

  it('lets the owner advance a RUNNING run from the cursor its batch started at', () => {
    expect(advanceRefusal(current, progress)).toBeNull();
    expect(advanceRefusal({ ...current, executionName: 'other' }, { ...progress, executionName: undefined })).toBeNull();
  });

  it('refuses, permanently, an advance of a missing, finished or lost run', () => {
    expect(advanceRefusal(null, progress)).toEqual(new RunStateError('run r1 does not exist'));
    expect(advanceRefusal({ ...current, status: 'FAILED' }, progress)).toEqual(new RunStateError('run r1 is FAILED; this batch is not committed'));
    const lost = advanceRefusal({ ...current, executionName: 'r1-e2' }, progress);
    expect(lost).toBeInstanceOf(RunStateError);
    expect(lost?.message).toBe('run r1 belongs to execution r1-e2, not r1-e1; this batch is not committed');
  });

  it("refuses, retryably, an advance after the owner's orphaned attempt moved the cursor", () => {
    expect(advanceRefusal({ ...current, cursor: ['20'] }, progress)).toBeInstanceOf(TransientConflictError);
    expect(advanceRefusal({ ...current, cursor: null }, progress)).toBeInstanceOf(TransientConflictError);
  });
});

describe('finishing transitions', () => {
  it('completes, pauses or fails a RUNNING run; the pipeline takes the same status', () => {
    expect(finishTransition(run, 'RUNNING', 'r1-e1', 'SUCCEEDED')).toEqual({ runStatus: 'SUCCEEDED', pipelineStatus: 'SUCCEEDED', finished: true });
    expect(finishTransition(run, 'PAUSE_REQUESTED', 'r1-e1', 'PAUSED')).toEqual({ runStatus: 'PAUSED', pipelineStatus: 'PAUSED', finished: false });
    expect(finishTransition(run, 'RUNNING', 'r1-e1', 'FAILED')).toEqual({ runStatus: 'FAILED', pipelineStatus: 'FAILED', finished: true });
  });

  it('fails a PAUSED run (its resuming execution died before the claim) but neither completes nor pauses it', () => {
    const paused = { ...run, status: 'PAUSED' as const };
    expect(finishTransition(paused, 'RUN_REQUESTED', 'r1-e1', 'FAILED')).toMatchObject({ runStatus: 'FAILED' });
    expect(() => finishTransition(paused, 'RUN_REQUESTED', 'r1-e1', 'SUCCEEDED')).toThrow(new RunStateError('run r1 is not running'));
    expect(() => finishTransition(paused, 'RUN_REQUESTED', 'r1-e1', 'PAUSED')).toThrow(new RunStateError('run r1 is not running'));
  });

  it('refuses a finish by an execution that no longer owns the run', () => {
    expect(() => finishTransition(run, 'RUNNING', 'r1-e0', 'SUCCEEDED')).toThrow(new RunStateError('run r1 belongs to execution r1-e1'));
  });

  it('lets reconciliation fail a run only while it is as it was read', () => {
    expect(finishTransition(run, 'RUNNING', 'r1-e1', 'FAILED', { runStatus: 'RUNNING' })).toMatchObject({ runStatus: 'FAILED' });
    expect(() => finishTransition({ ...run, status: 'PAUSED' }, 'PAUSED', 'r1-e1', 'FAILED', { runStatus: 'RUNNING' })).toThrow(
      new RunStateError('run r1 moved on (run PAUSED, pipeline PAUSED) since it was read'),
    );
    expect(() => finishTransition(run, 'SUCCEEDED', 'r1-e1', 'FAILED', { runStatus: 'RUNNING' })).toThrow(RunStateError);
  });

  it('hands a RUNNING run to the next execution, idempotently, and only from its owner', () => {
    expect(() => assertHandOver(run, 'r1', 'r1-e1', 'r1-e2')).not.toThrow();
    expect(() => assertHandOver({ ...run, executionName: 'r1-e2' }, 'r1', 'r1-e1', 'r1-e2')).not.toThrow();
    expect(() => assertHandOver({ ...run, executionName: 'r1-e3' }, 'r1', 'r1-e1', 'r1-e2')).toThrow(new RunStateError('run r1 is not running under execution r1-e1'));
    expect(() => assertHandOver({ ...run, status: 'PAUSED' }, 'r1', 'r1-e1', 'r1-e2')).toThrow(RunStateError);
    expect(() => assertHandOver(null, 'r1', 'r1-e1', 'r1-e2')).toThrow(RunStateError);
  });
});
