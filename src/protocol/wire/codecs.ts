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

/** A strictly increasing list of participant indices (a set in canonical order). */
export const IndexListSchema = z
  .array(IndexSchema)
  .max(65_536)
  .refine((xs) => xs.every((x, i) => i === 0 || x > (xs[i - 1] as number)), 'indices must be strictly increasing');
