/**
 * The demo works in its own namespace: pipelines named `demo_*` and its own target table (and
 * search index), so that running it never touches the user's film_dim_* pipelines or
 * analytics.film_dim. It deletes and empties only what it creates.
 */
export const DEMO_PREFIX = 'demo_';
/** The demo's target in the warehouse database: a copy of analytics.film_dim's shape. */
export const DEMO_TABLE = 'analytics.demo_film_dim';

type Body = Record<string, unknown>;

/** A seed pipeline moved into the demo's namespace: `demo_` name, Postgres targets on DEMO_TABLE. */
export function demoPipeline(body: Body, overrides: Body = {}): Body {
  const retarget = (target: unknown) =>
    target && typeof target === 'object' && (target as Body).type === 'postgres' ? { ...(target as Body), table: DEMO_TABLE } : target;
  const merged = { ...body, ...overrides };
  return {
    ...merged,
    name: `${DEMO_PREFIX}${String(merged.name)}`,
    ...(merged.target ? { target: retarget(merged.target) } : {}),
    ...(Array.isArray(merged.tasks) ? { tasks: (merged.tasks as Body[]).map((task) => (task.target ? { ...task, target: retarget(task.target) } : task)) } : {}),
  };
}
