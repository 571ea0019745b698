/**
 * The local stack invokes the state machine's tasks as serverless.yml declares them: the same
 * functions/steps handler module and export, and the function's own timeout, below its Task's.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadStepFunctions } from '../local/lambda/functions.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const asl = JSON.parse(readFileSync(path.join(repoRoot, 'statemachines/run-pipeline.asl.json'), 'utf8')) as { States: Record<string, Record<string, unknown>> };
const tasks = Object.values(asl.States).filter((state) => state.Type === 'Task');
const functionKeyOf = (state: Record<string, unknown>) => (state.Resource as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];

describe('local step functions read from serverless.yml', () => {
  it('gives every Task of the definition its functions/steps handler and a timeout below the Task timeout, and loads the reconcile function', async () => {
    const functions = await loadStepFunctions({ repoRoot, stage: 'local' });
    expect(functions.map((fn) => fn.key).sort()).toEqual([...tasks.map(functionKeyOf), 'reconcileExecution'].sort());
    expect(functions.find((fn) => fn.key === 'reconcileExecution')).toMatchObject({ module: path.join(repoRoot, 'functions/events/reconcile-execution.ts'), exportName: 'handler' });
    for (const state of tasks) {
      const fn = functions.find((f) => f.key === functionKeyOf(state))!;
      expect(path.relative(repoRoot, fn.module)).toMatch(/^functions\/steps\/[a-z-]+\.ts$/);
      expect(fn.exportName).toBe('handler');
      expect(fn.name).toBe(`etl-local-${fn.key}`);
      expect(fn.timeoutSeconds).toBeLessThan(state.TimeoutSeconds as number);
    }
    expect(functions.find((fn) => fn.key === 'runBatch')).toMatchObject({ module: path.join(repoRoot, 'functions/steps/run-batch.ts'), timeoutSeconds: 280 });
  });

  it('lets a test shorten one function timeout and leaves the others as declared', async () => {
    const functions = await loadStepFunctions({ repoRoot, stage: 'local', timeoutOverrides: { runBatch: 2 } });
    expect(Object.fromEntries(functions.map((fn) => [fn.key, fn.timeoutSeconds]))).toMatchObject({ runBatch: 2, startRun: 50 });
  });

  it("names each function's esbuild bundle in the given work folder, as serverless-esbuild writes it", async () => {
    const functions = await loadStepFunctions({ repoRoot, stage: 'local', esbuildWorkFolder: '/tmp/work' });
    expect(functions.find((fn) => fn.key === 'runBatch')?.bundle).toBe('/tmp/work/.build/functions/steps/run-batch.mjs');
    expect(functions.find((fn) => fn.key === 'reconcileExecution')?.bundle).toBe('/tmp/work/.build/functions/events/reconcile-execution.mjs');
  });
});
