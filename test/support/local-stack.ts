/**
 * The local stack as `npm start` runs it, for end-to-end tests: its own database (cloned from the
 * run's template and seeded with the demo catalogue), free ports, and clients for the HTTP API
 * and the Step Functions endpoint. `stop()` leaves nothing running, also after a failed start.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { silentLogger } from '../../lib/core/logger.ts';
import { seedCatalogue } from '../../seeds/catalogue.ts';
import { createApiClient, type ApiClient } from '../../tools/local/api-client.ts';
import { freePort } from '../../tools/local/processes.ts';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../tools/local/stack.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

export interface LocalStackUnderTest {
  db: TestDatabase;
  stack: LocalStack;
  /** The HTTP API, with the stack's API key when it has one. */
  api: ApiClient;
  sfn: SFNClient;
  stop(): Promise<void>;
}

type StackChoices = Omit<LocalStackOptions, 'apiPort' | 'lambdaPort' | 'sfnPort' | 'databaseUrl' | 'logger'>;

export async function startLocalStackUnderTest(options: StackChoices & { films: number; prepare?: (db: TestDatabase) => Promise<void> }): Promise<LocalStackUnderTest> {
  const { films, prepare, ...choices } = options;
  const db = await createTestDatabase();
  try {
    await seedCatalogue(db.pool, { films });
    await prepare?.(db);
    const stack = await startLocalStack({
      apiPort: await freePort(),
      lambdaPort: await freePort(),
      sfnPort: await freePort(),
      databaseUrl: db.url,
      logger: silentLogger,
      ...choices,
    });
    const sfn = new SFNClient({ region: 'us-east-1', endpoint: stack.sfnUrl, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    return {
      db,
      stack,
      api: createApiClient(stack.apiUrl, choices.apiKey),
      sfn,
      stop: async () => {
        sfn.destroy();
        await stack.stop();
        await db.drop();
      },
    };
  } catch (error) {
    await db.drop();
    throw error;
  }
}
