/**
 * The metrics of one RunBatch attempt, in the EMF blob its invocation flushes. Dimensions are
 * service and stage only (set on the Metrics instance): a pipeline or run id as a dimension would
 * make one metric series per pipeline, each billed, so they travel as metadata, searchable in the
 * log line but not aggregated.
 */
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { BatchAttemptFigures } from '../core/use-cases/run-batch.ts';

export interface BatchAttempt {
  pipelineId: unknown;
  runId: unknown;
  /** Undefined when the attempt failed before it began (the run could not be loaded). */
  figures: BatchAttemptFigures | undefined;
  /** The attempt returned: its batch committed, or it found the source exhausted. */
  succeeded: boolean;
  durationMs: number;
}

export function addBatchMetrics(metrics: Metrics, attempt: BatchAttempt): void {
  if (typeof attempt.pipelineId === 'string') metrics.addMetadata('pipeline_id', attempt.pipelineId);
  if (typeof attempt.runId === 'string') metrics.addMetadata('run_id', attempt.runId);
  // Every attempt, failed ones too: a retried attempt that fails again is still a retry.
  metrics.addMetric('Retries', MetricUnit.Count, attempt.figures?.retry ? 1 : 0);
  metrics.addMetric('BatchDuration', MetricUnit.Milliseconds, Math.round(attempt.durationMs));
  if (!attempt.succeeded) return;
  // A successful attempt without a commit read the empty last page: zero rows.
  const committed = attempt.figures?.committed ?? { rowsRead: 0, rowsWritten: 0, rowsDeleted: 0 };
  metrics.addMetric('RowsRead', MetricUnit.Count, committed.rowsRead);
  metrics.addMetric('RowsWritten', MetricUnit.Count, committed.rowsWritten);
  metrics.addMetric('RowsDeleted', MetricUnit.Count, committed.rowsDeleted);
}
