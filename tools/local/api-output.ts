/**
 * serverless-offline's output in the local stack's JSON log stream. The handlers already write one
 * JSON object per line (Powertools, lib/runtime/observability.ts): those pass through unchanged. serverless-offline's
 * own lines (banner, request lines, crashes) are wrapped as JSON lines of the `etl-api` service, with the same keys.
 */
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

export function apiLogLine(raw: string, stream: 'stdout' | 'stderr', now: () => Date = () => new Date()): string | null {
  const line = raw.replace(ANSI, '').trimEnd();
  if (line.trim() === '') return null;
  if (line.startsWith('{')) {
    try {
      const parsed = JSON.parse(line) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return line;
    } catch {
      // not JSON after all: wrapped below
    }
  }
  // serverless-offline writes its ordinary notices to stderr too: the stream is kept, not a level.
  return JSON.stringify({ level: 'INFO', message: line.trim(), timestamp: now().toISOString(), service: 'etl-api', stream });
}
