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

/** An entry of a {@link peerBytesListCodec} list in memory: a peer index and its bytes under `field`. */
export type PeerBytes<F extends string> = { peer: number } & { [K in F]: Uint8Array };

const LOWER_HEX = /^(?:[0-9a-f]{2})*$/;

/**
 * Why `xs` is not a list of at most `maxItems` objects with exactly the keys `peer` and `field`,
 * peers strictly increasing indices, each `field` between `min` and `max` bytes (`wire`: as
 * lower-case hex text; otherwise a Uint8Array); undefined when it is one.
 */
function peerBytesListProblem(xs: unknown, field: string, min: number, max: number, maxItems: number, wire: boolean): string | undefined {
  if (!Array.isArray(xs)) return 'expected an array';
  if (xs.length > maxItems) return `at most ${maxItems} entries, got ${xs.length}`;
  let previous = -1;
  for (let i = 0; i < xs.length; i++) {
    const x: unknown = xs[i];
    if (typeof x !== 'object' || x === null || Array.isArray(x)) return `entry ${i}: expected an object`;
    const keys = Object.keys(x);
    if (keys.length !== 2 || !('peer' in x) || !(field in x)) return `entry ${i}: expected exactly the keys peer and ${field}`;
    const { peer } = x as { peer: unknown };
    if (typeof peer !== 'number' || !Number.isInteger(peer) || peer < 0 || peer > 65_535) return `entry ${i}: peer must be an integer in [0, 65 535]`;
    if (peer <= previous) return `entry ${i}: entries must be sorted by peer, no repeats`;
    previous = peer;
    const b = (x as Record<string, unknown>)[field];
    const bytes = wire ? (typeof b === 'string' && LOWER_HEX.test(b) ? b.length / 2 : -1) : b instanceof Uint8Array ? b.length : -1;
    if (bytes < min || bytes > max) {
      const range = min === max ? `${min}` : `${min}..${max}`;
      return `entry ${i}: ${field} must be ${range} bytes${wire ? ' as lower-case hex digits' : ''}`;
    }
  }
  return undefined;
}

/**
 * A list of `{ peer, [field]: bytes }` sorted by peer without repeats (share lists), `field` as
 * lower-case hex on the wire. One loop over the list rather than an object schema per entry: the
 * server validates a list from each of n participants per phase, and per-entry schemas (with a hex
 * round trip each) measured 75–120 µs per unmask message against a few µs for this loop.
 */
export function peerBytesListCodec<F extends string>(field: F, min: number, max: number, maxItems: number) {
  const fail = (wire: boolean) => ({ error: (issue: { input: unknown }) => peerBytesListProblem(issue.input, field, min, max, maxItems, wire) });
  return z.codec(
    z.custom<{ peer: number }[]>((xs) => peerBytesListProblem(xs, field, min, max, maxItems, true) === undefined, fail(true)),
    z.custom<PeerBytes<F>[]>((xs) => peerBytesListProblem(xs, field, min, max, maxItems, false) === undefined, fail(false)),
    {
      decode: (xs) => xs.map((x) => ({ peer: x.peer, [field]: fromHex((x as Record<string, unknown>)[field] as string) }) as PeerBytes<F>),
      encode: (xs) => xs.map((x) => ({ peer: x.peer, [field]: toHex(x[field]) })),
    },
  );
}
