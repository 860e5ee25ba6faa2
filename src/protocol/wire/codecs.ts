import { z } from 'zod';
import { fromHex, toHex } from '../../secagg/util/bytes.js';

/**
 * Zod codecs between the JSON form of a byte string (lower-case hex) and its in-memory form
 * (Uint8Array). `z.decode(schema, json)` turns wire JSON into in-memory messages and
 * `z.encode(schema, message)` does the reverse; lengths are checked in both directions.
 */

/** Exactly `length` bytes, as 2·length lower-case hex digits on the wire. */
export function bytesCodec(length: number) {
  return z.codec(
    z.string().regex(new RegExp(`^[0-9a-f]{${2 * length}}$`), `expected ${length} bytes as ${2 * length} lower-case hex digits`),
    z.custom<Uint8Array>((b) => b instanceof Uint8Array && b.length === length, `expected exactly ${length} bytes`),
    { decode: (s) => fromHex(s), encode: (b) => toHex(b) },
  );
}

/** Between `min` and `max` bytes, as lower-case hex on the wire. */
export function varBytesCodec(min: number, max: number) {
  return z.codec(
    z
      .string()
      .max(2 * max, `at most ${max} bytes`)
      .min(2 * min, `at least ${min} bytes`)
      .regex(/^(?:[0-9a-f]{2})*$/, 'expected whole bytes as lower-case hex digits'),
    z.custom<Uint8Array>((b) => b instanceof Uint8Array && b.length >= min && b.length <= max, `expected ${min}..${max} bytes`),
    { decode: (s) => fromHex(s), encode: (b) => toHex(b) },
  );
}

/** A participant index (0-based position in the round's key list). */
export const IndexSchema = z.number().int().min(0).max(65_535);

/** True when `xs` is a strictly increasing list of at most 65 536 integers in [0, 65 535]. */
export function isIndexList(xs: unknown): xs is number[] {
  if (!Array.isArray(xs) || xs.length > 65_536) return false;
  let previous = -1;
  for (const x of xs) {
    if (typeof x !== 'number' || !Number.isInteger(x) || x <= previous || x > 65_535) return false;
    previous = x;
  }
  return true;
}

/**
 * A strictly increasing list of participant indices (a set in canonical order). One loop rather
 * than a schema per element: every client validates lists of all n participants in several
 * phases, and per-element validation measured about a tenth of a 500-client round.
 */
export const IndexListSchema = z.custom<number[]>(
  isIndexList,
  'expected a strictly increasing list of at most 65 536 participant indices, integers in [0, 65 535]',
);
