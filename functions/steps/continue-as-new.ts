import { stepHandler } from '../../lib/runtime/step.ts';
import { services } from '../../lib/runtime/services.ts';

/** State machine task: continueAsNew (statemachines/run-pipeline.asl.json). */
export const handler = stepHandler((input) => services().steps.continueAsNew(input));
