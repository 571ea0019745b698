/**
 * The local Lambda runner that the local stack's Step Functions endpoint invokes steps through:
 * worker threads with the function's environment, warm reuse, Lambda's error names, and a
 * timeout that ends even a handler that never yields.
 */
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLocalLambda, type LocalFunction } from '../local/lambda/runner.ts';

const handlers = path.resolve('tools/test/fixtures/lambda-handlers.ts');
const fn = (key: string, timeoutSeconds = 10, module = handlers): LocalFunction => ({ key, name: `etl-test-${key}`, module, exportName: key, timeoutSeconds });

describe('local Lambda runner', () => {
  const lambda = createLocalLambda({
    functions: [fn('echo'), fn('count'), fn('fail'), fn('spin', 1), fn('sleep'), { ...fn('handler'), module: path.resolve('tools/test/fixtures/lambda-broken.ts') }],
    env: { GREETING: 'hello' },
    onOutput: () => undefined,
  });
  afterAll(() => lambda.stop());

  it("runs a handler in a worker that sees only the function's environment, and returns its JSON result", async () => {
    const result = await lambda.invoke('echo', { n: 1, at: new Date(0) });
    expect(result).toEqual({ event: { n: 1, at: '1970-01-01T00:00:00.000Z' }, greeting: 'hello', path: null, functionName: 'etl-test-echo' });
  });

  it('keeps a container warm between invocations, and starts another while one is busy', async () => {
    expect(await lambda.invoke('count', {})).toBe(1);
    expect(await lambda.invoke('count', {})).toBe(2);
    const busy = lambda.invoke('sleep', { ms: 300 });
    const started = Date.now();
    // A second sleep cannot wait for the first container: it gets its own and ends as soon.
    expect(await Promise.all([busy, lambda.invoke('sleep', { ms: 10 })])).toEqual(['slept', 'slept']);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("rejects with the handler's error name and message, which the definition's Retry and Catch match", async () => {
    await expect(lambda.invoke('fail', {})).rejects.toMatchObject({ name: 'ConnectionLostError', message: 'the database went away' });
  });

  it("fails every invocation of a function whose module cannot load with the init error's name", async () => {
    const refused = { name: 'ConfigError', message: expect.stringContaining('BATCHES_PER_EXECUTION') as unknown };
    await expect(lambda.invoke('handler', {})).rejects.toMatchObject(refused);
    await expect(lambda.invoke('handler', {})).rejects.toMatchObject(refused);
  });

  it('ends a handler stuck in a catastrophic regular expression at its timeout with Sandbox.Timedout; others are answered meanwhile', async () => {
    const started = Date.now();
    const stuck = lambda.invoke('spin', { a: 34 });
    const settled = stuck.then(
      () => Date.now() - started,
      () => Date.now() - started,
    );
    // While it spins, this thread and other functions answer at once.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const echoStarted = Date.now();
    await lambda.invoke('echo', {});
    expect(Date.now() - echoStarted).toBeLessThan(3_000);
    await expect(stuck).rejects.toMatchObject({ name: 'Sandbox.Timedout', message: 'Task timed out after 1.00 seconds' });
    const elapsed = await settled;
    expect(elapsed).toBeGreaterThanOrEqual(1_000);
    expect(elapsed).toBeLessThan(15_000);
    // The killed container is gone; the function runs again in a fresh one.
    expect(await lambda.invoke('spin', { a: 4 })).toBe(false);
  });

  it('refuses an unknown function as Lambda does', async () => {
    await expect(lambda.invoke('nope', {})).rejects.toMatchObject({ name: 'Lambda.ResourceNotFoundException' });
  });
});

describe('local Lambda runner with bundles', () => {
  let bundlesBuilt = false;
  const lambda = createLocalLambda({
    functions: [{ ...fn('echo'), bundle: path.resolve('tools/test/fixtures/lambda-bundle.mjs') }],
    env: {},
    onOutput: () => undefined,
    useBundles: () => bundlesBuilt,
  });
  afterAll(() => lambda.stop());

  it('loads the TypeScript module until the bundles are said to be built, then starts new containers from the bundle', async () => {
    expect(await lambda.invoke('echo', { n: 1 })).toMatchObject({ event: { n: 1 }, functionName: 'etl-test-echo' });
    bundlesBuilt = true;
    // The warm container keeps the code it loaded, as a warm Lambda keeps its deployment.
    expect(await lambda.invoke('echo', { n: 2 })).not.toHaveProperty('from');
    const [first, second] = await Promise.all([lambda.invoke('echo', { n: 3 }), lambda.invoke('echo', { n: 4 })]);
    expect([first, second]).toContainEqual({ event: { n: 4 }, from: 'bundle' });
  });
});

