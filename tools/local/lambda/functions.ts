/**
 * The state machine's task functions as serverless.yml declares them (handler and timeout), so
 * that the local runner invokes the same `functions/steps/*` handlers with the same timeouts as
 * Lambda, without a second list to keep in step with the template.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import type { LocalFunction } from './runner.ts';

interface ServerlessFile {
  service?: unknown;
  provider?: { timeout?: unknown };
  functions?: Record<string, { handler?: unknown; timeout?: unknown }>;
}

export interface StepFunctionsOptions {
  repoRoot: string;
  stage: string;
  /** Seconds per function key in place of the declared timeout (tests shorten RunBatch's). */
  timeoutOverrides?: Readonly<Record<string, number>>;
  /** serverless-esbuild's work folder: each function's `bundle` is its build there. */
  esbuildWorkFolder?: string;
}

/** The state machine's tasks, and the functions EventBridge triggers (the reconcile function). */
const LOCAL_HANDLERS = ['functions/steps/', 'functions/events/'];

/** Every function whose handler lives under functions/steps/ or functions/events/. */
export async function loadStepFunctions(options: StepFunctionsOptions): Promise<LocalFunction[]> {
  const file = path.join(options.repoRoot, 'serverless.yml');
  const doc = parse(await readFile(file, 'utf8')) as ServerlessFile;
  if (typeof doc.service !== 'string') throw new Error(`${file}: service must be a plain string`);
  const defaultTimeout = doc.provider?.timeout;
  const found: LocalFunction[] = [];
  for (const [key, fn] of Object.entries(doc.functions ?? {})) {
    const handler = fn.handler;
    if (typeof handler !== 'string' || !LOCAL_HANDLERS.some((prefix) => handler.startsWith(prefix))) continue;
    const dot = handler.lastIndexOf('.');
    const module = path.join(options.repoRoot, `${handler.slice(0, dot)}.ts`);
    if (!existsSync(module)) throw new Error(`${file}: functions.${key}.handler: ${module} does not exist`);
    const declared = fn.timeout ?? defaultTimeout;
    const timeoutSeconds = options.timeoutOverrides?.[key] ?? declared;
    if (typeof timeoutSeconds !== 'number' || !(timeoutSeconds > 0)) throw new Error(`${file}: functions.${key}.timeout must be a number of seconds, got ${JSON.stringify(declared)}`);
    // serverless-esbuild writes <work folder>/.build/<handler path>.mjs (outputFileExtension in serverless.yml).
    const bundle = options.esbuildWorkFolder && path.join(options.esbuildWorkFolder, '.build', `${handler.slice(0, dot)}.mjs`);
    found.push({ key, name: `${doc.service}-${options.stage}-${key}`, module, ...(bundle ? { bundle } : {}), exportName: handler.slice(dot + 1), timeoutSeconds });
  }
  return found;
}
