/** A small client of the HTTP API for the demo, the CLI and the end-to-end tests. */
import type { Pipeline } from '../../lib/core/pipeline.ts';
import type { CheckpointRecord, ConnectionInfo, PipelineWithLastRun, RunRecord } from '../../lib/core/ports.ts';
import type { Preview } from '../../lib/core/use-cases/preview-pipeline.ts';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

export interface RunAccepted {
  run_id: string;
  execution_arn: string;
  status: string;
  resumed: boolean;
}

/** `limit` and `after` of GET /pipelines and GET /pipelines/{id}/runs. */
export interface PageQuery {
  limit?: number;
  after?: string | null;
}

const pageQuery = ({ limit, after }: PageQuery = {}): string => {
  const params = new URLSearchParams();
  if (limit !== undefined) params.set('limit', String(limit));
  if (after) params.set('after', after);
  const text = params.toString();
  return text ? `?${text}` : '';
};

/** Follows `next` from the first page to the last. */
async function allPages<T>(fetchPage: (after: string | null) => Promise<{ items: T[]; next: string | null }>): Promise<T[]> {
  const all: T[] = [];
  let after: string | null = null;
  do {
    const page = await fetchPage(after);
    all.push(...page.items);
    after = page.next;
  } while (after);
  return all;
}

export function createApiClient(baseUrl: string, apiKey?: string) {
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(apiKey ? { 'x-api-key': apiKey } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const parsed = text ? (JSON.parse(text) as unknown) : undefined;
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ApiError(response.status, error?.code ?? 'error', error?.message ?? text);
    }
    return parsed as T;
  }

  const client = {
    health: () => call<{ status: string }>('GET', '/health'),
    createPipeline: (body: unknown) => call<Pipeline>('POST', '/pipelines', body),
    /** One page of pipelines in name order; `next` is null on the last page. */
    pipelinesPage: (page?: PageQuery) => call<{ pipelines: Pipeline[]; next: string | null }>('GET', `/pipelines${pageQuery(page)}`),
    /** Every pipeline, page after page. */
    listPipelines: () => allPages(async (after) => {
      const page = await client.pipelinesPage({ limit: 200, after });
      return { items: page.pipelines, next: page.next };
    }),
    getPipeline: (id: string) => call<PipelineWithLastRun>('GET', `/pipelines/${id}`),
    updatePipeline: (id: string, body: unknown) => call<Pipeline>('PATCH', `/pipelines/${id}`, body),
    deletePipeline: (id: string) => call<undefined>('DELETE', `/pipelines/${id}`),
    run: (id: string) => call<RunAccepted>('POST', `/pipelines/${id}/run`),
    pause: (id: string) => call<{ status: string }>('POST', `/pipelines/${id}/pause`),
    /** One page of a pipeline's runs, newest first; `next` is null on the last page. */
    runsPage: (id: string, page?: PageQuery) => call<{ runs: RunRecord[]; next: string | null }>('GET', `/pipelines/${id}/runs${pageQuery(page)}`),
    /** Every run of the pipeline, newest first, page after page. */
    listRuns: (id: string) => allPages(async (after) => {
      const page = await client.runsPage(id, { limit: 500, after });
      return { items: page.runs, next: page.next };
    }),
    getRun: (id: string, runId: string) => call<RunRecord>('GET', `/pipelines/${id}/runs/${runId}`),
    getState: (id: string) => call<CheckpointRecord>('GET', `/pipelines/${id}/state`),
    reset: (id: string) => call<Pipeline>('POST', `/pipelines/${id}/reset`),
    preview: (id: string) => call<Preview>('POST', `/pipelines/${id}/preview`),
    connections: async () => (await call<{ connections: ConnectionInfo[] }>('GET', '/connections')).connections,

    /** Polls until the run is no longer active (or is PAUSED); `onProgress` sees each poll. */
    async waitForRun(id: string, runId: string, options: { timeoutMs?: number; onProgress?: (run: RunRecord) => void } = {}): Promise<RunRecord> {
      const deadline = Date.now() + (options.timeoutMs ?? 300_000);
      for (;;) {
        const [run, pipeline] = await Promise.all([client.getRun(id, runId), client.getPipeline(id)]);
        options.onProgress?.(run);
        if (run.status !== 'RUNNING' && !['RUN_REQUESTED', 'RUNNING', 'PAUSE_REQUESTED'].includes(pipeline.status)) return run;
        if (Date.now() > deadline) throw new Error(`run ${runId} is still ${run.status} after ${options.timeoutMs ?? 300_000} ms`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
  };
  return client;
}

export type ApiClient = ReturnType<typeof createApiClient>;
