import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { InvalidDefinitionError, TransformError, ValidationError } from '../../lib/core/errors.ts';
import { parseCreatePipeline, type PipelineDefinition, type TargetDefinition } from '../../lib/core/pipeline.ts';
import type { Row } from '../../lib/core/ports.ts';
import { createTransformCompiler, listTransforms, MAX_EXPRESSION_LENGTH } from '../../lib/transforms/index.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const filmDim: TargetDefinition = { type: 'postgres', table: 'analytics.film_dim', key: ['film_id'] };
const compiler = createTransformCompiler();

/** A tasks-based definition as the API would build it: reader, the given steps, writer. */
function plan(steps: unknown[], target: TargetDefinition = filmDim): PipelineDefinition {
  return parseCreatePipeline({
    name: 'test_plan',
    mode: 'full',
    tasks: [
      { type: 'sql_reader', name: 'read', query: 'SELECT * FROM content.film_work' },
      ...steps,
      { type: 'writer', name: 'write', target },
    ],
  });
}

async function run(steps: unknown[], rows: Row[], target?: TargetDefinition) {
  return compiler.compile(plan(steps, target)).run(rows);
}

const transform = (name: string, transformName: string, params?: Record<string, unknown>) => ({
  type: 'transform',
  name,
  transform: transformName,
  ...(params ? { params } : {}),
});

describe('identity', () => {
  it('passes rows through unchanged when the pipeline has no task plan', async () => {
    const definition: PipelineDefinition = { ...plan([]), tasks: null };
    const rows = [{ film_id: 'a' }, { film_id: 'b' }];
    compiler.validate(definition);
    await expect(compiler.compile(definition).run(rows)).resolves.toEqual({ rows, dropped: 0 });
  });

  it('passes rows through unchanged when the plan is only a reader and a writer', async () => {
    const rows = [{ film_id: 'a', title: 'A' }];
    await expect(run([], rows)).resolves.toEqual({ rows: [{ film_id: 'a', title: 'A' }], dropped: 0 });
  });
});

describe('split_persons_by_role', () => {
  it('turns persons into sorted, distinct name arrays per role and removes persons', async () => {
    const rows = [
      {
        film_id: 'f1',
        persons: [
          { name: 'Zoe', role: 'actor' },
          { name: 'Ada', role: 'actor' },
          { name: 'Ada', role: 'writer' },
          { name: 'Wen', role: 'director' },
          { name: 'Ada', role: 'actor' },
          { name: 'Mo', role: 'composer' },
        ],
      },
      { film_id: 'f2', persons: null },
    ];
    await expect(run([transform('split', 'split_persons_by_role')], rows)).resolves.toEqual({
      rows: [
        { film_id: 'f1', actors: ['Ada', 'Zoe'], directors: ['Wen'], writers: ['Ada'] },
        { film_id: 'f2', actors: [], directors: [], writers: [] },
      ],
      dropped: 0,
    });
  });

  it('reads the field and writes the role fields that params name', async () => {
    const rows = [{ film_id: 'f1', crew: [{ name: 'Ada', role: 'actor' }] }];
    const step = transform('split', 'split_persons_by_role', { field: 'crew', roles: { actor: 'cast', writer: 'authors' } });
    await expect(run([step], rows)).resolves.toEqual({
      rows: [{ film_id: 'f1', cast: ['Ada'], directors: [], authors: [] }],
      dropped: 0,
    });
  });

  it('fails the batch with a TransformError naming the task and the row key when persons is not an array', async () => {
    const rows = [{ film_id: 'ok', persons: [] }, { film_id: '5d1e8c2a', persons: 'Ada' }];
    const result = run([transform('split', 'split_persons_by_role')], rows);
    await expect(result).rejects.toBeInstanceOf(TransformError);
    await expect(result).rejects.toMatchObject({
      name: 'TransformError',
      message: 'task split (split_persons_by_role) failed on row film_id=5d1e8c2a: persons must be an array, got string',
      cause: expect.objectContaining({ message: 'persons must be an array, got string' }) as unknown,
    });
  });
});

describe('normalise_rating', () => {
  it('makes ratings numbers rounded to one decimal, clamped to [0, 10], null kept', async () => {
    const rows = [{ rating: '7.3' }, { rating: 7.26 }, { rating: '12' }, { rating: -1 }, { rating: null }].map((r, i) => ({ film_id: `f${i}`, ...r }));
    const { rows: out } = await run([transform('rating', 'normalise_rating')], rows);
    expect(out.map((row) => row.rating)).toEqual([7.3, 7.3, 10, 0, null]);
  });

  it('replaces null with the default that params give, on the field they name', async () => {
    const rows = [{ film_id: 'f1', score: null, rating: null }];
    const step = transform('rating', 'normalise_rating', { field: 'score', default: 5 });
    await expect(run([step], rows)).resolves.toEqual({ rows: [{ film_id: 'f1', score: 5, rating: null }], dropped: 0 });
  });

  it('fails on a rating that is not numeric', async () => {
    const result = run([transform('rating', 'normalise_rating')], [{ film_id: 'f9', rating: 'good' }]);
    await expect(result).rejects.toMatchObject({
      name: 'TransformError',
      message: 'task rating (normalise_rating) failed on row film_id=f9: rating must be a finite number or numeric string, got "good"',
    });
  });
});

describe('search_document', () => {
  it('keeps the chosen fields and adds full text and suggest fields', async () => {
    const rows = [
      {
        film_id: 'f1',
        title: ' Star ',
        description: null,
        rating: 7.3,
        genres: ['Drama', 'Sci-Fi'],
        persons: [{ name: 'Ada', role: 'actor' }],
        modified: new Date('2024-01-01T00:00:00Z'),
      },
    ];
    const step = transform('doc', 'search_document', {
      fields: ['film_id', 'title', 'rating'],
      suggest_fields: ['title', 'persons'],
    });
    await expect(run([step], rows, { type: 'elasticsearch', index: 'films', id_field: 'film_id' })).resolves.toEqual({
      rows: [{ film_id: 'f1', title: ' Star ', rating: 7.3, all_text: 'Star Drama Sci-Fi Ada', suggest: ['Star', 'Ada'] }],
      dropped: 0,
    });
  });

  it('keeps every field by default and writes the text field that params name', async () => {
    const step = transform('doc', 'search_document', { text_fields: ['title', 'actors'], text_field: 'text' });
    await expect(run([step], [{ film_id: 'f1', title: 'Star', actors: ['Ada', 'Bo'] }])).resolves.toEqual({
      rows: [{ film_id: 'f1', title: 'Star', actors: ['Ada', 'Bo'], text: 'Star Ada Bo' }],
      dropped: 0,
    });
  });
});

describe('dropping and emitting rows', () => {
  it('drop_where_null drops rows whose field is null and counts them as dropped', async () => {
    const rows = [
      { film_id: 'a', rating: 1 },
      { film_id: 'b', rating: null },
      { film_id: 'c', rating: 2 },
    ];
    await expect(run([transform('has_rating', 'drop_where_null', { field: 'rating' })], rows)).resolves.toEqual({
      rows: [
        { film_id: 'a', rating: 1 },
        { film_id: 'c', rating: 2 },
      ],
      dropped: 1,
    });
  });

  it('unnest emits one row per element, and a row with an empty array counts as dropped', async () => {
    const rows = [
      { film_id: 'a', genres: ['Drama', 'Comedy'] },
      { film_id: 'b', genres: [] },
    ];
    const target: TargetDefinition = { type: 'postgres', table: 'analytics.film_genre', key: ['film_id', 'genre'] };
    await expect(run([transform('per_genre', 'unnest', { field: 'genres', as: 'genre' })], rows, target)).resolves.toEqual({
      rows: [
        { film_id: 'a', genre: 'Drama' },
        { film_id: 'a', genre: 'Comedy' },
      ],
      dropped: 1,
    });
  });

  it('feeds every emitted row to the next task and drops an input row only when none of its rows survive', async () => {
    const rows = [
      { film_id: 'a', genres: ['Drama', 'Comedy'] },
      { film_id: 'b', genres: ['Comedy'] },
    ];
    const steps = [transform('per_genre', 'unnest', { field: 'genres', as: 'genre' }), { type: 'map', name: 'no_comedy', filter: "genre != 'Comedy'" }];
    await expect(run(steps, rows)).resolves.toEqual({ rows: [{ film_id: 'a', genre: 'Drama' }], dropped: 1 });
  });
});

describe('map tasks', () => {
  it('applies filter, then compute, then rename, then drop', async () => {
    const rows = [
      { film_id: 'a', title: 'Star', rating: '7.3', secret: 1 },
      { film_id: 'b', title: 'Moon', rating: '2.0', secret: 1 },
    ];
    const step = {
      type: 'map',
      name: 'shape',
      // The filter sees the input row (rating still a string); compute sees it too, not renamed
      // fields; rename can rename a computed field; drop names fields after renaming.
      filter: '$number(rating) > 5',
      compute: { title_upper: '$uppercase(title)', score: '$number(rating) * 10' },
      rename: { title_upper: 'headline', title: 'name' },
      drop: ['secret', 'headline_missing', 'name'],
    };
    await expect(run([step], rows)).resolves.toEqual({
      rows: [{ film_id: 'a', rating: '7.3', headline: 'STAR', score: 73 }],
      dropped: 1,
    });
  });

  it('drops rows whose filter is not exactly true', async () => {
    const rows = [1, 'yes', true, null].map((flag, i) => ({ film_id: `f${i}`, flag }));
    await expect(run([{ type: 'map', name: 'only_true', filter: 'flag' }], rows)).resolves.toEqual({
      rows: [{ film_id: 'f2', flag: true }],
      dropped: 3,
    });
  });

  it('evaluates every compute against the incoming row and sets null when an expression matches nothing', async () => {
    const step = { type: 'map', name: 'calc', compute: { a: 'b', b: 'a', c: 'missing' } };
    await expect(run([step], [{ film_id: 'f', a: 1, b: 2 }])).resolves.toEqual({
      rows: [{ film_id: 'f', a: 2, b: 1, c: null }],
      dropped: 0,
    });
  });

  it('returns plain arrays and objects from JSONata, without its sequence markers', async () => {
    const step = { type: 'map', name: 'calc', compute: { names: 'persons.name', doc: '{"tags": genres}' } };
    const { rows } = await run([step], [{ film_id: 'f', persons: [{ name: 'A' }, { name: 'B' }], genres: ['x', 'y'] }]);
    expect(rows).toEqual([{ film_id: 'f', persons: [{ name: 'A' }, { name: 'B' }], genres: ['x', 'y'], names: ['A', 'B'], doc: { tags: ['x', 'y'] } }]);
    expect(Object.keys(rows[0]!.names as unknown[])).toEqual(['0', '1']);
  });

  it('renames all fields at once, so two fields can swap names', async () => {
    const step = { type: 'map', name: 'swap', rename: { a: 'b', b: 'a' } };
    await expect(run([step], [{ film_id: 'f', a: 1, b: 2 }])).resolves.toEqual({ rows: [{ film_id: 'f', a: 2, b: 1 }], dropped: 0 });
  });

  it('does not change the input rows', async () => {
    const input = { film_id: 'f', title: 'x', persons: [{ name: 'A', role: 'actor' }] };
    const steps = [transform('split', 'split_persons_by_role'), { type: 'map', name: 'm', compute: { title: '$uppercase(title)' }, drop: ['film_id'] }];
    await run(steps, [input]);
    expect(input).toEqual({ film_id: 'f', title: 'x', persons: [{ name: 'A', role: 'actor' }] });
  });

  it('fails with a TransformError naming the task, the row key and the expression when an expression fails on a row', async () => {
    const step = { type: 'map', name: 'shape', compute: { score: 'rating > 5' } };
    await expect(run([step], [{ film_id: 'f7', rating: '7.3' }])).rejects.toMatchObject({
      name: 'TransformError',
      message: expect.stringMatching(/^task shape \(map\) failed on row film_id=f7: compute\.score: JSONata error T2009 at position \d+: /) as unknown,
    });
  });

  it('fails a renamed field that the row does not have', async () => {
    const step = { type: 'map', name: 'shape', rename: { titel: 'title' } };
    await expect(run([step], [{ film_id: 'f7', title: 'x' }])).rejects.toMatchObject({
      name: 'TransformError',
      message: 'task shape (map) failed on row film_id=f7: rename.titel: titel is missing from the row',
    });
  });

  it('stops runaway recursion instead of hanging the batch', async () => {
    const step = { type: 'map', name: 'loop', compute: { x: '($f := function($n) { 1 + $f($n) }; $f(1))' } };
    await expect(run([step], [{ film_id: 'f1' }])).rejects.toMatchObject({
      name: 'TransformError',
      message: expect.stringContaining('task loop (map) failed on row film_id=f1: compute.x: JSONata error D1011') as unknown,
    });
  });
});

describe('row keys in transform errors', () => {
  const failing = { type: 'map', name: 'boom', compute: { x: '$number(title)' } };

  it('names a composite postgres key as key=value pairs joined by commas', async () => {
    const target: TargetDefinition = { type: 'postgres', table: 'analytics.t', key: ['film_id', 'genre'] };
    await expect(run([failing], [{ film_id: 'f1', genre: 'Drama', title: 'x' }], target)).rejects.toMatchObject({
      name: 'TransformError',
      message: expect.stringContaining('failed on row film_id=f1,genre=Drama: ') as unknown,
    });
  });

  it('names a search target row by its id_field', async () => {
    const target: TargetDefinition = { type: 'opensearch', index: 'films', id_field: 'doc_id' };
    await expect(run([failing], [{ doc_id: 'd42', title: 'x' }], target)).rejects.toMatchObject({
      name: 'TransformError',
      message: expect.stringContaining('failed on row doc_id=d42: ') as unknown,
    });
  });

  it('falls back to the position in the batch when the row has no key', async () => {
    await expect(run([failing], [{ film_id: 'a', title: '1' }, { title: 'x' }])).rejects.toMatchObject({
      name: 'TransformError',
      message: expect.stringContaining('failed on row #2 of the batch (no film_id): ') as unknown,
    });
  });
});

describe('validate', () => {
  it('accepts a valid plan and a plain pipeline', () => {
    expect(() => compiler.validate(plan([transform('split', 'split_persons_by_role'), { type: 'map', name: 'm', filter: 'true' }]))).not.toThrow();
    expect(() => compiler.validate({ ...plan([]), tasks: null })).not.toThrow();
  });

  it('rejects an unknown transform, naming the task and the known transforms', () => {
    const definition = plan([transform('split', 'foo')]);
    expect(() => compiler.validate(definition)).toThrow(/^tasks\[1\] \(split\): unknown transform "foo" \(known: split_persons_by_role, normalise_rating, /);
    expect(() => compiler.validate(definition)).toThrow(expect.objectContaining({ name: 'ValidationError', field: 'tasks[1].transform' }));
  });

  it('rejects params that fail the transform schema, naming the param', () => {
    const badRole = plan([transform('x', 'normalise_rating'), transform('split', 'split_persons_by_role', { roles: { actor: 'bad name' } })]);
    expect(() => compiler.validate(badRole)).toThrow(/^tasks\[2\] \(split\): params\.roles\.actor: must be a field name/);
    expect(() => compiler.validate(badRole)).toThrow(expect.objectContaining({ field: 'tasks[2].params.roles.actor' }));
    expect(() => compiler.validate(plan([transform('rating', 'normalise_rating', { colour: 'red' })]))).toThrow(
      /^tasks\[1\] \(rating\): params\.colour: unknown field$/,
    );
    expect(() => compiler.validate(plan([transform('nn', 'drop_where_null')]))).toThrow(/^tasks\[1\] \(nn\): params\.field: /);
    expect(() => compiler.validate(plan([transform('rating', 'normalise_rating', { default: 11 })]))).toThrow(/^tasks\[1\] \(rating\): params\.default: /);
  });

  it('rejects a compute expression with a JSONata syntax error, naming the task, field and position', () => {
    const definition = plan([transform('split', 'split_persons_by_role'), { type: 'map', name: 'shape', compute: { title_upper: '$upper(title' } }]);
    expect(() => compiler.validate(definition)).toThrow(/^tasks\[2\] \(shape\): compute\.title_upper: JSONata syntax error at position \d+: /);
    expect(() => compiler.validate(definition)).toThrow(expect.objectContaining({ field: 'tasks[2].compute.title_upper' }));
  });

  it('rejects a filter with a JSONata syntax error', () => {
    expect(() => compiler.validate(plan([{ type: 'map', name: 'keep', filter: 'rating >' }]))).toThrow(
      /^tasks\[1\] \(keep\): filter: JSONata syntax error at position \d+: /,
    );
  });

  it(`rejects an expression longer than ${MAX_EXPRESSION_LENGTH} characters`, () => {
    const long = `title & "${'x'.repeat(MAX_EXPRESSION_LENGTH)}"`;
    expect(() => compiler.validate(plan([{ type: 'map', name: 'big', compute: { t: long } }]))).toThrow(
      /^tasks\[1\] \(big\): compute\.t: expression is too long \(\d+ characters, max 2000\)$/,
    );
  });

  it('rejects field names that are not identifiers and renames onto one name', () => {
    expect(() => compiler.validate(plan([{ type: 'map', name: 'm', rename: { title: 'the title' } }]))).toThrow(
      /^tasks\[1\] \(m\): rename\.title: "the title" is not a field name/,
    );
    expect(() => compiler.validate(plan([{ type: 'map', name: 'm', compute: { ok: '1', '1st': '1' } }]))).toThrow(
      /^tasks\[1\] \(m\): compute\.1st: "1st" is not a field name/,
    );
    expect(() => compiler.validate(plan([{ type: 'map', name: 'm', drop: ['ok', ''] }]))).toThrow(/^tasks\[1\] \(m\): drop\[1\]: "" is not a field name/);
    expect(() => compiler.validate(plan([{ type: 'map', name: 'm', rename: { a: 'c', b: 'c' } }]))).toThrow(
      /^tasks\[1\] \(m\): rename\.b: "c" is already the new name of another field$/,
    );
  });

  it('rejects a map task that does nothing', () => {
    expect(() => compiler.validate(plan([{ type: 'map', name: 'noop' }]))).toThrow(/^tasks\[1\] \(noop\): type: a map task needs at least one of/);
  });

  it('throws ValidationError from validate and InvalidDefinitionError from compile for the same bad plan', () => {
    const definition = plan([transform('split', 'removed_in_a_deploy')]);
    expect(() => compiler.validate(definition)).toThrow(ValidationError);
    expect(() => compiler.compile(definition)).toThrow(InvalidDefinitionError);
    expect(() => compiler.compile(definition)).toThrow(/^tasks\[1\] \(split\): unknown transform "removed_in_a_deploy"/);
  });
});

describe('the film_dim_tasks demo pipeline', () => {
  const body: unknown = JSON.parse(readFileSync(path.join(repoRoot, 'seeds/pipelines/film_dim_tasks.json'), 'utf8'));
  const definition = parseCreatePipeline(body);

  it('is a valid full pipeline writing analytics.film_dim in batches of 200', () => {
    expect(definition).toMatchObject({ name: 'film_dim_tasks', mode: 'full', batch_size: 200, target: filmDim });
    expect(() => compiler.validate(definition)).not.toThrow();
  });

  it('turns a reader row into exactly the analytics.film_dim columns', async () => {
    const modified = new Date('2024-01-02T21:16:49Z');
    const creationDate = new Date('2009-09-21T00:00:00Z');
    // As pg returns the reader's columns: numeric as text, text[] as an array, json parsed.
    const row = {
      film_id: '000024af-7ebc-b590-c2d0-01ab64910ef2',
      title: ' Endless Harbour ',
      description: 'A story.',
      rating: '1.4',
      type: 'movie',
      creation_date: creationDate,
      modified,
      genres: ['Drama', 'Action'],
      persons: [
        { name: 'Zoe Yilmaz', role: 'actor' },
        { name: 'Farah Abbott', role: 'writer' },
        { name: 'Ivan Ivanova', role: 'actor' },
        { name: 'Wen Quinn', role: 'director' },
      ],
    };
    await expect(compiler.compile(definition).run([row])).resolves.toEqual({
      rows: [
        {
          film_id: '000024af-7ebc-b590-c2d0-01ab64910ef2',
          title: 'Endless Harbour',
          description: 'A story.',
          rating: 1.4,
          type: 'movie',
          creation_date: creationDate,
          genres: ['Action', 'Drama'],
          actors: ['Ivan Ivanova', 'Zoe Yilmaz'],
          directors: ['Wen Quinn'],
          writers: ['Farah Abbott'],
          modified,
        },
      ],
      dropped: 0,
    });
  });
});

describe('registry listing', () => {
  it('lists every named transform with a description and a params schema', () => {
    const listing = listTransforms();
    expect(listing.map((t) => t.name)).toEqual(['split_persons_by_role', 'normalise_rating', 'search_document', 'drop_where_null', 'unnest']);
    for (const entry of listing) {
      expect(entry.description.length).toBeGreaterThan(20);
      expect(entry.params).toMatchObject({ type: 'object' });
    }
  });
});

describe('domain boundary', () => {
  it('lib/transforms imports only zod, jsonata and modules of lib/core and lib/transforms', () => {
    const dir = path.join(repoRoot, 'lib/transforms');
    const allowed = [path.join(repoRoot, 'lib/core') + path.sep, dir + path.sep];
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
    const outside = files.flatMap((file) => {
      const source = readFileSync(path.join(dir, file), 'utf8');
      const specifiers = [...source.matchAll(/^import .* from '([^']+)';$/gm)].map((match) => match[1]!);
      return specifiers
        .filter((spec) => (spec.startsWith('.') ? !allowed.some((root) => path.resolve(path.dirname(path.join(dir, file)), spec).startsWith(root)) : !['zod', 'jsonata'].includes(spec)))
        .map((spec) => `${file}: ${spec}`);
    });
    expect(files.length).toBeGreaterThan(5);
    expect(outside).toEqual([]);
  });
});
