#!/usr/bin/env node
// The `etl` command: a terminal client of the HTTP API (see lib/local/cli.ts).
import { register } from 'tsx/esm/api';

register();
await import('../lib/local/cli.ts');
