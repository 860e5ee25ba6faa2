import { packBits, unpackBits } from '../../secagg/index.js';

/**
 * The masked vector's binary body: packBits(y, bits) (little-endian bit stream, spec/secagg.md).
 * For bits = 32 on a little-endian host that stream is the Uint32Array's own memory, so these
 * helpers skip the bit-by-bit packer there (same bytes, a copy instead of a loop).
 */

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * The body of `y` (values already reduced mod 2^bits). For bits = 32 it is a view of y's memory,
 * not a copy (a million-coordinate copy measured several ms per client): the caller hands `y` over
 * and must not change it afterwards.
 */
export function packVector(y: Uint32Array, bits: number): Uint8Array {
  if (bits === 32 && LITTLE_ENDIAN) return new Uint8Array(y.buffer, y.byteOffset, y.byteLength);
  return packBits(y, bits);
}

/**
 * The `length` values of a body; throws the zmod codes of {@link unpackBits} on a bad size or value.
 * For bits = 32 and a 4-byte-aligned body the result is a view of the body's memory (no copy): treat
 * it as read-only.
 */
export function unpackVector(body: Uint8Array, length: number, bits: number): Uint32Array {
  if (bits === 32 && LITTLE_ENDIAN && body.length === 4 * length) {
    if (body.byteOffset % 4 === 0) return new Uint32Array(body.buffer, body.byteOffset, length);
    return new Uint32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
  }
  return unpackBits(body, length, bits);
}
