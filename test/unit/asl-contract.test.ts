/**
 * The error names are the contract between the TypeScript steps and the state machine's
 * Retry/Catch lists (Step Functions matches `error.name` exactly): check it both ways.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import * as errors from '../../lib/core/errors.ts';

interface Retrier {
  ErrorEquals: string[];
  IntervalSeconds?: number;
  BackoffRate?: number;
  MaxAttempts?: number;
  MaxDelaySeconds?: number;
  JitterStrategy?: string;
}
interface State {
  Type: string;
  TimeoutSeconds?: number;
  Retry?: Retrier[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string }[];
}

const definition = JSON.parse(readFileSync(path.resolve('statemachines/run-pipeline.asl.json'), 'utf8')) as { States: Record<string, State> };
const states = Object.entries(definition.States);
const tasks = states.filter(([, state]) => state.Type === 'Task');
const runBatch = definition.States.RunBatch!;

/** Names owned by Step Functions and Lambda themselves, not by our classes. */
const SERVICE_NAME = /^(States|Lambda|Sandbox)\./;

type ErrorClass = new (message: string) => Error;
const isErrorClass = (value: unknown): value is ErrorClass => typeof value === 'function' && (value as { prototype?: unknown }).prototype instanceof Error;
const errorClasses = Object.entries(errors as Record<string, unknown>).flatMap(([exported, value]) => (isErrorClass(value) ? [[exported, value] as const] : []));
/** Concrete classes by the `name` their instances carry (the abstract bases carry 'Error'). */
const byName = new Map(
  errorClasses.map(([exported, Class]) => [new Class('m').name, { exported, Class }] as const).filter(([name]) => name !== 'Error'),
);
const isA = (base: abstract new (...args: never[]) => Error) => [...byName.entries()].filter(([, { Class }]) => Class.prototype instanceof base).map(([name]) => name);
const retryableClasses = isA(errors.RetryableError);
const permanentClasses = isA(errors.PermanentError);

const retriedNames = (state: State) => (state.Retry ?? []).flatMap((r) => r.ErrorEquals);
const namesInAsl = [...new Set(tasks.flatMap(([, state]) => [...retriedNames(state), ...(state.Catch ?? []).flatMap((c) => c.ErrorEquals)]))];

describe('the state machine definition against lib/core/errors.ts', () => {
  it('has error classes whose name is a literal equal to the exported class name', () => {
    expect(byName.size).toBeGreaterThanOrEqual(9);
    for (const [name, { exported }] of byName) expect(name).toBe(exported);
  });

  it('names in Retry/Catch ErrorEquals are exported error classes, or Step Functions/Lambda names', () => {
    const ours = namesInAsl.filter((name) => !SERVICE_NAME.test(name));
    expect(ours.length).toBeGreaterThan(0);
    for (const name of ours) {
      const found = byName.get(name);
      expect(found, `${name} is in the ASL but no exported error class has that name`).toBeDefined();
      expect(new found!.Class('m').name).toBe(name);
    }
  });

  it('sorts every error class the steps throw into exactly one family, retryable or permanent', () => {
    expect(retryableClasses.length + permanentClasses.length).toBe(isA(errors.EtlError).length);
    expect(retryableClasses.filter((name) => permanentClasses.includes(name))).toEqual([]);
  });

  it('retries every retryable class on RunBatch, and on every other task that touches the database', () => {
    expect(retryableClasses.length).toBeGreaterThan(0);
    for (const name of retryableClasses) expect(retriedNames(runBatch), `RunBatch does not retry ${name}`).toContain(name);
    for (const [stateName, state] of tasks) {
      for (const name of retryableClasses) expect(retriedNames(state), `${stateName} does not retry ${name}`).toContain(name);
    }
  });

  it('never retries a permanent class: the same input would fail the same way', () => {
    expect(permanentClasses.length).toBeGreaterThan(0);
    for (const [stateName, state] of tasks) {
      for (const name of permanentClasses) expect(retriedNames(state), `${stateName} retries permanent ${name}`).not.toContain(name);
    }
  });

  it('gives RunBatch a full backoff policy: interval, backoff rate, attempts, max delay, FULL jitter', () => {
    expect(runBatch.Retry).toHaveLength(1);
    const [retrier] = runBatch.Retry!;
    expect(retrier).toMatchObject({ JitterStrategy: 'FULL' });
    expect(retrier!.IntervalSeconds).toBeGreaterThan(0);
    expect(retrier!.BackoffRate).toBeGreaterThan(1);
    expect(retrier!.MaxAttempts).toBeGreaterThan(0);
    expect(retrier!.MaxDelaySeconds).toBeGreaterThanOrEqual(retrier!.IntervalSeconds!);
  });

  it('bounds every Task with TimeoutSeconds, so a hung Lambda cannot hold a run forever', () => {
    expect(tasks.length).toBeGreaterThanOrEqual(6);
    for (const [stateName, state] of tasks) expect(state.TimeoutSeconds, `${stateName} has no TimeoutSeconds`).toBeGreaterThan(0);
  });

  it('catches everything on every Task but FailRun into FailRun, so a failure is recorded on the run', () => {
    for (const [stateName, state] of tasks.filter(([stateName]) => stateName !== 'FailRun')) {
      expect(state.Catch, `${stateName} has no Catch`).toEqual([expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'FailRun' })]);
    }
  });

  it('repeats one retrier on every task; only RunBatch (more attempts, a longer ceiling) and ContinueAsNew (+UpstreamUnavailableError) differ', () => {
    const shared = definition.States.StartRun!.Retry!;
    expect(shared).toHaveLength(1);
    for (const [name, state] of tasks) {
      const expected =
        name === 'RunBatch'
          ? [{ ...shared[0], MaxAttempts: 6, MaxDelaySeconds: 30 }]
          : name === 'ContinueAsNew'
            ? [{ ...shared[0], ErrorEquals: [...shared[0]!.ErrorEquals, 'UpstreamUnavailableError'] }]
            : shared;
      expect(state.Retry, name).toEqual(expected);
    }
  });
});
