import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { FedveilError } from '../secagg/util/errors.js';
import { formatZodError } from './config.js';

/**
 * Reads the JSON file at `path` and checks it against `schema`. Throws FedveilError
 * `codes.unreadable` when it cannot be read or parsed, `codes.invalid` when it breaks the schema;
 * both messages name the file and `what` it should hold.
 */
export function readJsonFile<S extends z.ZodType>(path: string, schema: S, what: string, codes: { unreadable: string; invalid: string }): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new FedveilError(codes.unreadable, `cannot read ${what} ${path}: ${(e as Error).message}`);
  }
  const res = schema.safeParse(value);
  if (!res.success) throw new FedveilError(codes.invalid, `invalid ${what} ${path}: ${formatZodError(res.error)}`);
  return res.data;
}
