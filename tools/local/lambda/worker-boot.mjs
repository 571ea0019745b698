// Entry of a local Lambda worker thread. Node cannot load .ts by itself and a worker does not
// inherit the loader of a vitest or tsx parent reliably, so each worker registers tsx itself.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
