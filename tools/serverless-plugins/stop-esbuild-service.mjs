/**
 * A local serverless plugin for `sls offline`: once serverless-esbuild has built the bundles, the
 * esbuild service process it used is stopped.
 *
 * esbuild builds in a long-lived Go process. After bundling every function it holds the memory of
 * the builds (about 300 MB with this project's bundles, one build at a time) and gives it back to
 * the system only after a garbage collection that an idle process runs every two minutes at best;
 * a lower GOGC or GOMEMLIMIT made the bundling two to three times slower. Nothing needs the
 * process once the bundles are on disk: esbuild starts a new one on its next build (serverless-
 * esbuild's watcher rebuilding after a source change), so stopping it changes no behaviour.
 *
 * Listed after serverless-esbuild, so its hook on the same event runs after the bundling.
 */
import { createRequire } from 'node:module';

/** esbuild as serverless-esbuild loaded it (the same module instance, so the same service). */
function esbuildOfServerlessEsbuild() {
  const fromPlugin = createRequire(createRequire(import.meta.url).resolve('serverless-esbuild'));
  return fromPlugin('esbuild');
}

export default class StopEsbuildService {
  constructor() {
    this.hooks = {
      'before:offline:start:init': () => esbuildOfServerlessEsbuild().stop(),
      'before:offline:start': () => esbuildOfServerlessEsbuild().stop(),
    };
  }
}
