/**
 * Module resolution hook of localstack/host/bootstrap.mjs: `@aws-sdk/*`, which the Lambda Node.js
 * runtime provides and the bundles therefore leave out, resolves from the project's
 * node_modules when the deployed package does not hold it. Everything else resolves as on
 * Lambda: a package the bundle forgot fails here too.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';

let runtimePackagesParent;

export async function initialize({ modulesRoot }) {
  runtimePackagesParent = pathToFileURL(path.join(modulesRoot, 'package.json')).href;
}

export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !specifier.startsWith('@aws-sdk/')) throw error;
    return await nextResolve(specifier, { ...context, parentURL: runtimePackagesParent });
  }
}
