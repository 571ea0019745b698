import { config } from './config.ts';
import { createJsonLogger } from './logger.ts';

/** The service's one logger; children add pipeline_id, run_id, batch. */
export const logger = createJsonLogger({ service: 'etl', level: config.logLevel });
