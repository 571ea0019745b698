/** Quoting of identifiers that were validated by the pipeline schema (never user SQL). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** `schema.table` or `table` -> `"schema"."table"`. */
export function quoteTable(name: string): string {
  return name.split('.').map(quoteIdent).join('.');
}
