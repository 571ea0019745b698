/**
 * One contender of the bench, in its own process so that its peak RSS is its own. Prints one
 * JSON line: { name, seconds, rows, ... , peak_rss_mb }. Started by bench/run.ts.
 */
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { Client as EsClient } from '@elastic/elasticsearch';
import { runPlatform } from './platform.ts';
import { filmDimPipeline, limitFilmDimStatement } from './film-dim.ts';
import { runDlt, type DltSettings } from './dlt-peer.ts';

interface Args {
  name: string;
  stateUrl: string;
  targetUrl: string;
  rows: number;
  pageSize: number;
  esUrl?: string;
  /** Search contenders: documents written (ids 1..searchRows) and the index they go to. */
  searchRows?: number;
  searchIndex?: string;
  /** dlt_merge: the interpreter of the dlt venv, and how dlt reads and loads. */
  python?: string;
  dlt?: DltSettings;
}

const args = JSON.parse(process.argv[2]!) as Args;
const COLUMNS = ['id', 'a', 'b', 'c', 'd', 'e'];
const UPDATES = COLUMNS.filter((c) => c !== 'id');
export const UPSERT = `ON CONFLICT (id) DO UPDATE SET ${UPDATES.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}
  WHERE (${UPDATES.map((c) => `t.${c}`).join(', ')}) IS DISTINCT FROM (${UPDATES.map((c) => `EXCLUDED.${c}`).join(', ')})`;

async function client(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

const timed = async (work: () => Promise<Record<string, unknown> | void>) => {
  const started = performance.now();
  const extra = (await work()) ?? {};
  return { seconds: (performance.now() - started) / 1000, ...extra };
};

const contenders: Record<string, () => Promise<Record<string, unknown>>> = {
  /** The in-database limit: one statement. */
  async limit_sql() {
    const c = await client(args.stateUrl);
    try {
      return await timed(async () => {
        await c.query(`INSERT INTO bench.items_copy AS t SELECT * FROM bench.items ${UPSERT}`);
      });
    } finally {
      await c.end();
    }
  },

  /** The cross-database limit: one COPY out piped into one COPY into a staging table, then one upsert. */
  async limit_copy() {
    const [s, t] = await Promise.all([client(args.stateUrl), client(args.targetUrl)]);
    try {
      return await timed(async () => {
        await t.query('BEGIN; CREATE TEMP TABLE stage (LIKE bench.items_copy) ON COMMIT DROP');
        await streamPipeline(s.query(copyTo('COPY bench.items TO STDOUT')), t.query(copyFrom('COPY stage FROM STDIN')));
        await t.query(`INSERT INTO bench.items_copy AS t SELECT * FROM stage ${UPSERT}`);
        await t.query('COMMIT');
      });
    } finally {
      await Promise.all([s.end(), t.end()]);
    }
  },

  /** Pushdown page by page, one statement a page (what the platform's pushdown does, minus the platform). */
  async pages_one_statement() {
    const c = await client(args.stateUrl);
    try {
      return await timed(async () => {
        let after = -1;
        for (;;) {
          const { rows } = await c.query<{ n: string; last: string | null }>(
            `WITH page AS MATERIALIZED (SELECT * FROM bench.items WHERE id > $1 ORDER BY id LIMIT $2),
                  w AS (INSERT INTO bench.items_copy AS t SELECT * FROM page ${UPSERT})
             SELECT count(*) AS n, max(id)::text AS last FROM page`,
            [after, args.pageSize],
          );
          if (!rows[0]!.last) break;
          after = Number(rows[0]!.last);
          if (Number(rows[0]!.n) < args.pageSize) break;
        }
      });
    } finally {
      await c.end();
    }
  },

  /** Pushdown split in two: the page's key range read in a READ ONLY transaction, then INSERT ... SELECT over that range. */
  async pages_read_only_first() {
    const c = await client(args.stateUrl);
    try {
      return await timed(async () => {
        let after = -1;
        for (;;) {
          await c.query('BEGIN READ ONLY');
          const { rows } = await c.query<{ n: string; last: string | null }>(
            'SELECT count(*) AS n, max(id)::text AS last FROM (SELECT id FROM bench.items WHERE id > $1 ORDER BY id LIMIT $2) k',
            [after, args.pageSize],
          );
          await c.query('COMMIT');
          const last = rows[0]!.last;
          if (!last) break;
          await c.query('BEGIN');
          await c.query(`INSERT INTO bench.items_copy AS t SELECT * FROM bench.items WHERE id > $1 AND id <= $2 ${UPSERT}`, [after, last]);
          await c.query('COMMIT');
          after = Number(last);
          if (Number(rows[0]!.n) < args.pageSize) break;
        }
      });
    } finally {
      await c.end();
    }
  },

  /**
   * The platform, source and target in one database reached through one named connection
   * (pushdown; the state database itself never pushes down), batch_size auto.
   */
  async platform_same() {
    return report(await runPlatform({ DATABASE_URL: args.stateUrl, ETL_CONNECTION_DATA: args.stateUrl, LOG_LEVEL: 'error' }, pipelineBody('bench_same', 'data', 'data')));
  },

  /** The platform, target in another database (COPY), batch_size auto. */
  async platform_cross() {
    return report(await runPlatform({ DATABASE_URL: args.stateUrl, ETL_CONNECTION_TARGET: args.targetUrl, LOG_LEVEL: 'error' }, pipelineBody('bench_cross', 'default', 'target')));
  },
};

/** The rows both search contenders send: the first searchRows of bench.items. */
const searchQuery = () => `SELECT ${COLUMNS.join(', ')} FROM bench.items WHERE id <= ${Number(args.searchRows)}`;

Object.assign(contenders, {
  /**
   * The search limit: one server-side cursor (DECLARE ... FETCH 5000) fed into the official
   * client's `helpers.bulk` at its defaults (5 MB flushes, 5 requests in flight), `index` actions
   * with `_id` = id, into an index created with dynamic mapping like the platform's.
   */
  async search_raw() {
    const c = await client(args.stateUrl);
    const es = new EsClient({ node: args.esUrl! });
    try {
      return await timed(async () => {
        async function* documents() {
          await c.query('BEGIN READ ONLY');
          await c.query(`DECLARE rows NO SCROLL CURSOR FOR ${searchQuery()} ORDER BY id`);
          for (;;) {
            const { rows } = await c.query<Record<string, unknown>>('FETCH 5000 FROM rows');
            if (rows.length === 0) break;
            yield* rows;
          }
          await c.query('COMMIT');
        }
        const index = args.searchIndex!;
        const stats = await es.helpers.bulk({ datasource: documents(), onDocument: (doc) => ({ index: { _index: index, _id: String(doc.id) } }) });
        if (stats.failed > 0) throw new Error(`helpers.bulk: ${stats.failed} documents failed`);
      });
    } finally {
      await Promise.all([c.end(), es.close()]);
    }
  },

  /** The platform into the same index (search sink, ES_URL), batch_size auto. */
  async platform_search() {
    const body = {
      name: `bench_search_${Date.now()}`,
      mode: 'full',
      source: { query: searchQuery(), connection: 'default' },
      target: { type: 'elasticsearch', index: args.searchIndex, id_field: 'id' },
    };
    return report(await runPlatform({ DATABASE_URL: args.stateUrl, ES_URL: args.esUrl!, LOG_LEVEL: 'error' }, body));
  },
});

Object.assign(contenders, {
  /** The demo's film_dim query into analytics.film_dim in one statement, in key order. */
  async limit_film_dim() {
    const c = await client(args.stateUrl);
    try {
      return await timed(async () => {
        await c.query(limitFilmDimStatement);
      });
    } finally {
      await c.end();
    }
  },

  /** The demo's film_dim_full pipeline at defaults, source and target on one named connection (pushdown). */
  async platform_film_dim() {
    return report(await runPlatform({ DATABASE_URL: args.stateUrl, ETL_CONNECTION_DATA: args.stateUrl, LOG_LEVEL: 'error' }, filmDimPipeline('data')));
  },

  /** dlt merging bench.items into bench_target (its own process; its peak RSS is reported). */
  async dlt_merge() {
    return await runDlt(args.python!, args.stateUrl, args.targetUrl, args.dlt!);
  },
});

function pipelineBody(name: string, sourceConnection: string, connection: string): Record<string, unknown> {
  return {
    name: `${name}_${Date.now()}`,
    mode: 'full',
    source: { query: `SELECT ${COLUMNS.join(', ')} FROM bench.items`, connection: sourceConnection },
    target: { type: 'postgres', table: 'bench.items_copy', key: ['id'], connection },
  };
}

function report(result: Awaited<ReturnType<typeof runPlatform>>): Record<string, unknown> {
  return {
    seconds: result.seconds,
    seen_seconds: Number(result.seenSeconds.toFixed(3)),
    batch_seconds: Number(result.batchSeconds.toFixed(2)),
    batches: result.run.batches,
    batch_sizes: result.run.batch_sizes,
    rows_written: result.run.rows_written,
    transitions: result.transitions,
    transitions_per_batch: Number(result.transitionsPerBatch.toFixed(2)),
    batch_log: result.batchLog,
  };
}

const work = contenders[args.name];
if (!work) throw new Error(`unknown contender ${args.name}`);
const result = await work();
// A contender that runs in a child process of its own (dlt) reports that process's peak RSS.
console.log(JSON.stringify({ name: args.name, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024), ...result }));
process.exit(0);
