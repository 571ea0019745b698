#!/usr/bin/env node
// The `etl` command: a terminal client of the HTTP API (see tools/local/cli.ts).
import { register } from 'tsx/esm/api';

register();
await import('../tools/local/cli.ts');
