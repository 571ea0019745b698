/**
 * The handler presets through the real Powertools logger and metrics, their output captured on
 * the process's stdout and stderr: every line carries the invocation's context, and RunBatch's
 * EMF blob holds the batch's figures as the state store saw them committed.
 */
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConnectionLostError } from '../../lib/core/errors.ts';
import type { BatchProgress } from '../../lib/core/ports.ts';
import type { BatchAttemptFigures } from '../../lib/core/use-cases/run-batch.ts';
import type { LoopState, StepInput } from '../../lib/core/use-cases/run-steps.ts';
import { parseConfig } from '../../lib/runtime/config.ts';
import { httpHandler } from '../../lib/runtime/http.ts';
import { createObservability } from '../../lib/runtime/observability.ts';
import { runBatchHandler } from '../../lib/runtime/step.ts';

// Lambda sets it in every on-demand container; Powertools reports cold_start only where it is set.
// Hoisted above the imports, which build the container's logger.
vi.hoisted(() => {
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
});

afterAll(() => {
  delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
});

let lines: string[] = [];

beforeEach(() => {
  lines = [];
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
  }
});

afterEach(() => {
  vi.restoreAllMocks();
});

const parsed = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);

const lambdaContext = (awsRequestId: string, functionName: string) =>
  ({
    awsRequestId,
    functionName,
    functionVersion: '$LATEST',
    memoryLimitInMB: '512',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    getRemainingTimeInMillis: () => 25_000,
  }) as unknown as Context;

describe('HTTP handler logs', () => {
  it('carries the request id, cold start and function name on the line a 5xx writes', async () => {
    const failing = httpHandler(async () => {
      throw new Error('database host db.internal refused');
    });
    const event = { httpMethod: 'GET', path: '/pipelines', headers: {}, pathParameters: null, queryStringParameters: null } as unknown as APIGatewayProxyEvent;

    const first = await failing(event, lambdaContext('req-0001', 'etl-dev-listPipelines'));
    const second = await failing(event, lambdaContext('req-0002', 'etl-dev-listPipelines'));
    expect(second.statusCode).toBe(500);

    expect(first.statusCode).toBe(500);
    expect(JSON.parse(first.body)).toEqual({ error: { code: 'internal_error', message: 'internal error', request_id: 'req-0001' } });
    const logged = parsed().filter((line) => line.message === 'request failed');
    expect(logged).toHaveLength(2);
    expect(logged[0]).toMatchObject({
      level: 'ERROR',
      service: 'etl',
      function_request_id: 'req-0001',
      function_name: 'etl-dev-listPipelines',
      cold_start: true,
      status: 500,
      path: '/pipelines',
      error: { name: 'Error', message: 'database host db.internal refused' },
    });
    expect(logged[1]).toMatchObject({ function_request_id: 'req-0002', cold_start: false });
    // The cause is described, never its stack.
    expect(JSON.stringify(logged[0]!.error)).not.toContain('stack');
  });
});

describe('RunBatch metrics (EMF)', () => {
  const config = parseConfig({ STAGE: 'dev', LOG_LEVEL: 'info' });
  const runState: LoopState = { pipeline_id: 'p-1', run_id: 'r-1', batches_in_execution: 0, batches_per_execution: 500, done: false, pause_requested: false };
  const input: StepInput = { state: { ...runState }, execution_name: 'r-1-e1', execution_arn: 'arn:aws:states:us-east-1:000000000000:execution:etl-dev-run-pipeline:r-1-e1' };

  /**
   * A test double of the engine: its runBatch reports the attempt's figures as the use-case does
   * (whether it retries, and the counts handed to the cursor advance) and then returns or throws.
   */
  function engineDouble(batch: { retry: boolean; progress?: Partial<BatchProgress>; fail?: Error }) {
    const runBatch = async (_input: StepInput, report?: (figures: BatchAttemptFigures) => void): Promise<LoopState> => {
      const { progress } = batch;
      report?.({ retry: batch.retry, committed: progress ? { rowsRead: progress.rowsRead ?? 0, rowsWritten: progress.rowsWritten ?? 0, rowsDeleted: progress.rowsDeleted ?? 0 } : null });
      if (batch.fail) throw batch.fail;
      return { ...runState, batches_in_execution: 1 };
    };
    const engine = { steps: { runBatch } } as unknown as ReturnType<Parameters<typeof runBatchHandler>[0]>;
    return () => engine;
  }

  const emfBlobs = () => parsed().filter((line) => '_aws' in line);
  const metricDefinitions = (blob: Record<string, unknown>) =>
    (blob._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] }).CloudWatchMetrics[0]!;

  it('flushes one blob per batch with rows read, written and deleted, its duration and retries; service and stage are the only dimensions', async () => {
    const handler = runBatchHandler(engineDouble({ retry: false, progress: { rowsRead: 500, rowsWritten: 480, rowsDropped: 5, rowsDeleted: 15 } }), createObservability(config));

    const result = await handler(input, lambdaContext('batch-req-1', 'etl-dev-runBatch'));

    expect(result.batches_in_execution).toBe(1);
    const blobs = emfBlobs();
    expect(blobs).toHaveLength(1);
    const blob = blobs[0]!;
    const definition = metricDefinitions(blob);
    expect(definition.Namespace).toBe('Etl');
    expect(definition.Dimensions).toEqual([['service', 'stage']]);
    expect(definition.Metrics).toEqual(
      expect.arrayContaining([
        { Name: 'RowsRead', Unit: 'Count' },
        { Name: 'RowsWritten', Unit: 'Count' },
        { Name: 'RowsDeleted', Unit: 'Count' },
        { Name: 'BatchDuration', Unit: 'Milliseconds' },
        { Name: 'Retries', Unit: 'Count' },
      ]),
    );
    expect(definition.Metrics).toHaveLength(5);
    expect(blob).toMatchObject({ service: 'etl', stage: 'dev', pipeline_id: 'p-1', run_id: 'r-1', RowsRead: 500, RowsWritten: 480, RowsDeleted: 15, Retries: 0 });
    expect(blob.BatchDuration).toEqual(expect.any(Number));
    expect(blob.BatchDuration as number).toBeGreaterThanOrEqual(0);
  });

  it('counts a retried attempt that fails again as a retry, with its duration and no row counts', async () => {
    const failure = new ConnectionLostError('the source went away');
    const handler = runBatchHandler(engineDouble({ retry: true, fail: failure }), createObservability(config));

    await expect(handler(input, lambdaContext('batch-req-2', 'etl-dev-runBatch'))).rejects.toBe(failure);

    const blobs = emfBlobs();
    expect(blobs).toHaveLength(1);
    expect(metricDefinitions(blobs[0]!).Metrics.map((metric) => metric.Name).sort()).toEqual(['BatchDuration', 'Retries']);
    expect(blobs[0]).toMatchObject({ Retries: 1, pipeline_id: 'p-1' });
  });

  it('reports an empty last page as zero rows', async () => {
    const handler = runBatchHandler(engineDouble({ retry: false }), createObservability(config));
    await handler(input, lambdaContext('batch-req-3', 'etl-dev-runBatch'));
    expect(emfBlobs()[0]).toMatchObject({ RowsRead: 0, RowsWritten: 0, RowsDeleted: 0, Retries: 0 });
  });

  it('writes nothing at all when metrics are disabled (POWERTOOLS_METRICS_DISABLED=true, the local stack)', async () => {
    const local = createObservability(parseConfig({ POWERTOOLS_METRICS_DISABLED: 'true' }));
    const handler = runBatchHandler(engineDouble({ retry: true, progress: { rowsRead: 3, rowsWritten: 3 } }), local);
    await handler(input, lambdaContext('batch-req-4', 'etl-local-runBatch'));
    expect(lines).toEqual([]);
  });

  it('takes the namespace from POWERTOOLS_METRICS_NAMESPACE and refuses one CloudWatch would not accept', () => {
    expect(parseConfig({ POWERTOOLS_METRICS_NAMESPACE: 'Acme/Etl' }).metricsNamespace).toBe('Acme/Etl');
    expect(() => parseConfig({ POWERTOOLS_METRICS_NAMESPACE: 'bad namespace!' })).toThrow(/POWERTOOLS_METRICS_NAMESPACE/);
    expect(() => parseConfig({ POWERTOOLS_METRICS_DISABLED: 'maybe' })).toThrow(/POWERTOOLS_METRICS_DISABLED must be true or false/);
  });
});
