import { config } from './config.ts';
import { createObservability } from './observability.ts';

/** The container's logger and metrics, from its config; the core gets `logger` (children add pipeline_id, run_id, batch). */
export const observability = createObservability(config);
export const logger = observability.logger;
