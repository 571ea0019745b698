import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../lib/core/errors.ts';
import { claimedPipelineStatus, decideRunRequest, pauseRequested, requestOutcome, resumePoint, startCursor, type ResumePointFacts, type RunRequestFacts } from '../../lib/core/run-lifecycle.ts';
import type { TakeOver } from '../../lib/core/ports.ts';

/** Instants in microseconds: 1 s = 1,000,000. */
const S = 1_000_000;
const failed = { id: 'failed-run', cursor: ['120'], horizon: null, requestedAt: 50 * S };
const facts = (patch: Partial<ResumePointFacts> = {}): ResumePointFacts => ({ mode: 'full', resetAt: null, lastSucceededAt: null, latestFailed: failed, ...patch });

describe('where a new run starts reading (a failed full run passes its cursor on)', () => {
  it('continues from the latest failed run with a cursor', () => {
    expect(resumePoint(facts())).toEqual({ resumedFrom: 'failed-run', cursor: ['120'], horizon: null });
  });

  it('keeps the failed run horizon with its cursor', () => {
    expect(resumePoint(facts({ latestFailed: { ...failed, horizon: '2026-01-01 00:00:00+00' } }))).toMatchObject({ horizon: '2026-01-01 00:00:00+00' });
  });

  it('starts from the beginning when no failed run committed a batch', () => {
    expect(resumePoint(facts({ latestFailed: null }))).toBeNull();
  });

  it('never inherits in incremental mode (the checkpoint already holds the failed run progress)', () => {
    expect(resumePoint(facts({ mode: 'incremental' }))).toBeNull();
  });

  it('starts from the beginning when a success was requested after the failure', () => {
    expect(resumePoint(facts({ lastSucceededAt: 60 * S }))).toBeNull();
  });

  it('inherits when the last success came before the failure, to the microsecond', () => {
    expect(resumePoint(facts({ lastSucceededAt: 49 * S }))).toMatchObject({ resumedFrom: 'failed-run' });
    expect(resumePoint(facts({ lastSucceededAt: 50 * S - 1 }))).toMatchObject({ resumedFrom: 'failed-run' });
    expect(resumePoint(facts({ lastSucceededAt: 50 * S }))).toBeNull();
  });

  it('starts from the beginning when the pipeline was reset after the failure', () => {
    expect(resumePoint(facts({ resetAt: 51 * S }))).toBeNull();
    expect(resumePoint(facts({ resetAt: 50 * S }))).toBeNull();
  });

  it('inherits when the reset came before the failure', () => {
    expect(resumePoint(facts({ resetAt: 40 * S }))).toMatchObject({ resumedFrom: 'failed-run', cursor: ['120'] });
  });
});

describe('where a claimed run reads from (an incremental run starts at the checkpoint)', () => {
  const checkpoint = { lastValue: '2026-03-01 10:00:00+00', lastId: '42' };

  it('starts the first claim of an incremental run at the checkpoint', () => {
    expect(startCursor({ mode: 'incremental', firstStart: true, cursor: null }, checkpoint)).toEqual(['2026-03-01 10:00:00+00', '42']);
  });

  it('starts an incremental run from the beginning without a checkpoint, or with one that has no id', () => {
    expect(startCursor({ mode: 'incremental', firstStart: true, cursor: null }, null)).toBeNull();
    expect(startCursor({ mode: 'incremental', firstStart: true, cursor: null }, { lastValue: 'x', lastId: null })).toBeNull();
  });

  it('keeps its own cursor when an incremental run is resumed, continued or taken over after its first claim', () => {
    expect(startCursor({ mode: 'incremental', firstStart: false, cursor: ['2026-03-02', '7'] }, checkpoint)).toEqual(['2026-03-02', '7']);
  });

  it('keeps the inherited cursor of a full run at its first claim', () => {
    expect(startCursor({ mode: 'full', firstStart: true, cursor: ['120'] }, checkpoint)).toEqual(['120']);
    expect(startCursor({ mode: 'full', firstStart: true, cursor: null }, checkpoint)).toBeNull();
  });

  it('keeps a pause asked for before the claim, and otherwise runs', () => {
    expect(claimedPipelineStatus('PAUSE_REQUESTED')).toBe('PAUSE_REQUESTED');
    expect(claimedPipelineStatus('RUN_REQUESTED')).toBe('RUNNING');
  });
});

describe('what a run request does to a pipeline', () => {
  const request = (patch: Partial<RunRequestFacts> = {}): RunRequestFacts => ({ pipelineId: 'p1', pipelineStatus: 'IDLE', activeRun: null, resume: true, takeOver: null, ...patch });
  const active = { id: 'r1', status: 'RUNNING' as const, executionName: 'r1-e1', idleSeconds: 1000 };
  const takeOver = (patch: Partial<TakeOver> = {}): TakeOver => ({ runId: 'r1', executionName: 'r1-e1', minIdleSeconds: null, reason: 'execution r1-e1 is ABORTED', ...patch });

  it.each(['IDLE', 'SUCCEEDED', 'FAILED'] as const)('creates a run on a %s pipeline', (pipelineStatus) => {
    expect(decideRunRequest(request({ pipelineStatus }))).toEqual({ action: 'create', takenOver: false });
  });

  it.each(['RUN_REQUESTED', 'RUNNING', 'PAUSE_REQUESTED'] as const)('refuses while the pipeline is %s and nothing judged its run stale', (pipelineStatus) => {
    expect(decideRunRequest(request({ pipelineStatus, activeRun: active }))).toEqual({ action: 'refuse', message: `pipeline p1 is already ${pipelineStatus}` });
  });

  it('takes over a stale run that still belongs to the execution judged dead', () => {
    const decision = decideRunRequest(request({ pipelineStatus: 'RUNNING', activeRun: active, takeOver: takeOver() }));
    expect(decision).toEqual({ action: 'take-over', runId: 'r1' });
    expect(requestOutcome(decision as { action: 'take-over'; runId: string })).toEqual({ resumed: true, takenOver: true });
  });

  it('refuses a takeover when the run changed hands since it was judged stale', () => {
    expect(decideRunRequest(request({ pipelineStatus: 'RUNNING', activeRun: { ...active, executionName: 'r1-e2' }, takeOver: takeOver() }))).toMatchObject({ action: 'refuse' });
    expect(decideRunRequest(request({ pipelineStatus: 'RUNNING', activeRun: { ...active, id: 'r2' }, takeOver: takeOver() }))).toMatchObject({ action: 'refuse' });
  });

  it('refuses a heartbeat-based takeover when the run showed life since', () => {
    const byHeartbeat = takeOver({ minIdleSeconds: 900 });
    expect(decideRunRequest(request({ pipelineStatus: 'RUNNING', activeRun: { ...active, idleSeconds: 10 }, takeOver: byHeartbeat }))).toMatchObject({ action: 'refuse' });
    expect(decideRunRequest(request({ pipelineStatus: 'RUNNING', activeRun: { ...active, idleSeconds: 900 }, takeOver: byHeartbeat }))).toEqual({ action: 'take-over', runId: 'r1' });
  });

  it('replaces the missing run of a pipeline left active without one (a new run, reported as taken over)', () => {
    const decision = decideRunRequest(request({ pipelineStatus: 'RUN_REQUESTED', takeOver: takeOver({ runId: null, executionName: null }) }));
    expect(decision).toEqual({ action: 'create', takenOver: true });
    expect(requestOutcome(decision as { action: 'create'; takenOver: boolean })).toEqual({ resumed: true, takenOver: true });
  });

  it('resumes the paused run of a PAUSED pipeline on a run request', () => {
    const decision = decideRunRequest(request({ pipelineStatus: 'PAUSED', activeRun: { ...active, status: 'PAUSED' } }));
    expect(decision).toEqual({ action: 'resume', runId: 'r1' });
    expect(requestOutcome(decision as { action: 'resume'; runId: string })).toEqual({ resumed: true, takenOver: false });
  });

  it("refuses a schedule's tick on a PAUSED pipeline: only a person's request resumes it", () => {
    expect(decideRunRequest(request({ pipelineStatus: 'PAUSED', activeRun: { ...active, status: 'PAUSED' }, resume: false }))).toEqual({
      action: 'refuse',
      message: "pipeline p1 is PAUSED; only a run request resumes it, a schedule's tick does not",
    });
  });

  it('creates a run when a PAUSED pipeline has no paused run left', () => {
    expect(decideRunRequest(request({ pipelineStatus: 'PAUSED' }))).toEqual({ action: 'create', takenOver: false });
  });
});

describe('a pause request', () => {
  it.each(['RUN_REQUESTED', 'RUNNING', 'PAUSE_REQUESTED'] as const)('asks a %s pipeline to pause', (status) => {
    expect(pauseRequested('p1', status)).toBe('PAUSE_REQUESTED');
  });

  it.each(['IDLE', 'PAUSED', 'SUCCEEDED', 'FAILED'] as const)('refuses a %s pipeline', (status) => {
    expect(() => pauseRequested('p1', status)).toThrow(new ConflictError(`pipeline p1 is not running (status ${status})`));
  });
});
