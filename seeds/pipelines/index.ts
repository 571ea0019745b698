/** The demo's pipeline definitions (JSON bodies of POST /pipelines), loaded from this folder. */
import { readFileSync } from 'node:fs';

export type PipelineBody = Record<string, unknown> & { name: string; batch_size: number };

export function loadSeedPipeline(name: 'film_dim_full' | 'film_dim_inc' | 'film_dim_tasks' | 'film_dim_search'): PipelineBody {
  return JSON.parse(readFileSync(new URL(`./${name}.json`, import.meta.url), 'utf8')) as PipelineBody;
}

/** The explicit index mapping of the film_dim documents. */
export function loadFilmDimMapping(): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL('../mappings/film_dim.json', import.meta.url), 'utf8')) as Record<string, unknown>;
}
