/** Task-plan transforms: the steps between a pipeline's SQL reader and its writer. See docs/TASK_PLANS.md. */
export { createTransformCompiler } from './compiler.ts';
export { listTransforms, type TransformListing } from './registry.ts';
export { EVALUATION_LIMITS, MAX_EXPRESSION_LENGTH } from './expression.ts';
export type { NamedTransform, RowTransform } from './named-transform.ts';
