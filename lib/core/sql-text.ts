/**
 * Reading the user's SQL as text, without a database: enough of PostgreSQL's lexical rules
 * (string literals, quoted identifiers, dollar quotes, comments) to tell whether the text is ONE
 * statement that cannot close the subquery the platform wraps it in.
 *
 * Why: the platform embeds the query as `SELECT ... FROM (<query>) AS src ...`. A query with an
 * unbalanced `)` or a top-level `;` could end the wrapper early and append its own clauses or
 * statements. Such text is refused when the pipeline is defined, before any server sees it; the
 * reader additionally sends every statement through the extended protocol, which accepts one
 * statement only (defence in depth).
 */

export interface SqlShape {
  /** The query without trailing semicolons, whitespace and comments. */
  body: string;
  /** Why the text cannot be used as one wrapped statement, or null when it can. */
  problem: string | null;
}

type Mode = 'code' | 'single' | 'escape' | 'double' | 'line' | 'block' | 'dollar';

/** Scans the text once: top-level `;`, parenthesis depth, unterminated literals and comments. */
export function inspectSql(text: string): SqlShape {
  let mode: Mode = 'code';
  let depth = 0;
  let blockDepth = 0;
  let dollarTag = '';
  let problem: string | null = null;
  let lastCode = -1; // index just past the last character that belongs to the statement
  let semicolonAt = -1;

  for (let i = 0; i < text.length && !problem; i++) {
    const c = text[i]!;
    const next = text[i + 1];
    switch (mode) {
      case 'code':
        if (c === '-' && next === '-') {
          mode = 'line';
          i++;
        } else if (c === '/' && next === '*') {
          mode = 'block';
          blockDepth = 1;
          i++;
        } else if (c === "'") {
          mode = /[eE]/.test(text[i - 1] ?? '') && !/[A-Za-z0-9_$]/.test(text[i - 2] ?? '') ? 'escape' : 'single';
          lastCode = i + 1;
        } else if (c === '"') {
          mode = 'double';
          lastCode = i + 1;
        } else if (c === '$' && !/[A-Za-z0-9_$]/.test(text[i - 1] ?? '')) {
          const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(text.slice(i));
          if (tag) {
            mode = 'dollar';
            dollarTag = tag[0];
            i += dollarTag.length - 1;
          }
          lastCode = i + 1;
        } else if (c === ';') {
          if (semicolonAt < 0) semicolonAt = i;
        } else if (!/\s/.test(c)) {
          if (semicolonAt >= 0) problem = 'must be one statement: text follows a ";"';
          if (c === '(') depth++;
          if (c === ')' && --depth < 0) problem = 'has a ")" without a matching "(" (the query must be one self-contained statement)';
          lastCode = i + 1;
        }
        break;
      case 'single':
        if (c === "'") {
          if (next === "'") i++;
          else mode = 'code';
        }
        lastCode = i + 1;
        break;
      case 'escape':
        if (c === '\\') i++;
        else if (c === "'") {
          if (next === "'") i++;
          else mode = 'code';
        }
        lastCode = i + 1;
        break;
      case 'double':
        if (c === '"') {
          if (next === '"') i++;
          else mode = 'code';
        }
        lastCode = i + 1;
        break;
      case 'line':
        if (c === '\n') mode = 'code';
        break;
      case 'block':
        if (c === '/' && next === '*') {
          blockDepth++;
          i++;
        } else if (c === '*' && next === '/') {
          i++;
          if (--blockDepth === 0) mode = 'code';
        }
        break;
      case 'dollar':
        if (text.startsWith(dollarTag, i)) {
          i += dollarTag.length - 1;
          mode = 'code';
        }
        lastCode = i + 1;
        break;
    }
  }

  if (!problem) {
    if (mode === 'single' || mode === 'escape') problem = 'has an unterminated string literal';
    else if (mode === 'double') problem = 'has an unterminated quoted identifier';
    else if (mode === 'dollar') problem = `has an unterminated dollar-quoted string (${dollarTag})`;
    else if (mode === 'block') problem = 'has an unterminated /* comment';
    else if (depth > 0) problem = 'has a "(" without a matching ")"';
  }
  const body = text.slice(0, lastCode < 0 ? 0 : lastCode).trim();
  if (!problem && body === '') problem = 'must contain a statement';
  return { body, problem };
}
