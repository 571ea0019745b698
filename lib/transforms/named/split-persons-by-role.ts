/** film_dim shaping: `persons: [{name, role}]` becomes one sorted array of names per role. */
import { z } from 'zod';
import type { Row } from '../../core/ports.ts';
import { defineTransform, fieldName, requireField } from '../named-transform.ts';

const roleNames = ['actor', 'director', 'writer'] as const;
type Role = (typeof roleNames)[number];

const params = z.strictObject({
  /** The input field holding the persons array. */
  field: fieldName.default('persons'),
  /** Output field per role. */
  roles: z
    .strictObject({ actor: fieldName.optional(), director: fieldName.optional(), writer: fieldName.optional() })
    .default({}),
});

export const splitPersonsByRole = defineTransform({
  name: 'split_persons_by_role',
  description:
    'Turns `persons: [{name, role}]` into `actors`, `directors` and `writers` arrays of distinct names (sorted by code point) ' +
    'and removes `persons`. null persons gives empty arrays; other roles are ignored. ' +
    'Params: field (default "persons"), roles.{actor,director,writer} (output field names).',
  params,
  create({ field, roles }) {
    const outputs: Record<Role, string> = {
      actor: roles.actor ?? 'actors',
      director: roles.director ?? 'directors',
      writer: roles.writer ?? 'writers',
    };
    return (row) => {
      const persons = requireField(row, field);
      if (persons !== null && !Array.isArray(persons)) throw new Error(`${field} must be an array, got ${typeof persons}`);
      const names: Record<Role, Set<string>> = { actor: new Set(), director: new Set(), writer: new Set() };
      (persons ?? []).forEach((person: unknown, i) => {
        const { name, role } = readPerson(person, `${field}[${i}]`);
        if (isRole(role)) names[role].add(name);
      });
      const { [field]: _persons, ...rest } = row;
      const out: Row = { ...rest };
      for (const role of roleNames) out[outputs[role]] = [...names[role]].sort(byCodePoint);
      return out;
    };
  },
});

function readPerson(person: unknown, at: string): { name: string; role: unknown } {
  if (person === null || typeof person !== 'object') throw new Error(`${at} must be an object {name, role}`);
  const { name, role } = person as { name?: unknown; role?: unknown };
  if (typeof name !== 'string') throw new Error(`${at}.name must be a string`);
  return { name, role };
}

function isRole(role: unknown): role is Role {
  return typeof role === 'string' && (roleNames as readonly string[]).includes(role);
}

// Code-point order, not locale order: the same input sorts the same on every Lambda runtime.
function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
