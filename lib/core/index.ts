export * from './errors.ts';
export * from './keyset.ts';
export * from './logger.ts';
export * from './pipeline.ts';
export type * from './ports.ts';
