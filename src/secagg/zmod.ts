import { check, FedveilError } from './util/errors.js';
import { addWordsInto } from './wasm/kernel.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Throws `zmod/bad-bits` unless `bits` is an integer in [1, 32]. */
export function checkBits(bits: number): void {
  check(
    Number.isInteger(bits) && bits >= 1 && bits <= 32,
    'zmod/bad-bits',
    () => `bit width must be an integer in [1, 32], got ${bits}`,
  );
}

/** 2^bits − 1 as an int32 bit pattern (−1 for bits = 32). */
export function bitMask(bits: number): number {
  return bits === 32 ? -1 : (1 << bits) - 1;
}

function checkPair(acc: Uint32Array, x: Uint32Array, bits: number): void {
  check(acc instanceof Uint32Array, 'zmod/bad-vector', 'accumulator must be a Uint32Array');
  check(x instanceof Uint32Array, 'zmod/bad-vector', 'operand must be a Uint32Array');
  check(
    acc.length === x.length,
    'zmod/length-mismatch',
    () => `vectors must have equal length, got ${acc.length} and ${x.length}`,
  );
  checkBits(bits);
}

/**
 * acc[i] = (acc[i] + x[i]) mod 2^bits, in place. Inputs need not be reduced (the result is the
 * same as reducing them first); outputs always are.
 */
export function addMod(acc: Uint32Array, x: Uint32Array, bits: number): void {
  checkPair(acc, x, bits);
  addWordsInto(acc, x, 1, bitMask(bits));
}

/** acc[i] = (acc[i] − x[i]) mod 2^bits, in place; outputs always reduced. */
export function subMod(acc: Uint32Array, x: Uint32Array, bits: number): void {
  checkPair(acc, x, bits);
  addWordsInto(acc, x, -1, bitMask(bits));
}

/** Number of bytes {@link packBits} produces for `length` values of `bits` bits: ceil(length·bits/8). */
export function packedLength(length: number, bits: number): number {
  checkBits(bits);
  check(Number.isSafeInteger(length) && length >= 0, 'zmod/bad-length', () => `length must be a non-negative integer, got ${length}`);
  return Math.ceil((length * bits) / 8);
}

/**
 * Little-endian bit stream of `v`: value i occupies stream bits [i·bits, (i+1)·bits), least
 * significant bit first; stream bit j is bit (j mod 8) of byte ⌊j/8⌋. Unused high bits of the last
 * byte are zero. For bits = 32 this is the plain little-endian uint32 array. Throws
 * `zmod/value-out-of-range` if a value is ≥ 2^bits (never silently truncates).
 */
export function packBits(v: Uint32Array, bits: number): Uint8Array {
  check(v instanceof Uint32Array, 'zmod/bad-vector', 'vector must be a Uint32Array');
  const out = new Uint8Array(packedLength(v.length, bits));
  const limit = 2 ** bits;
  for (let i = 0; i < v.length; i++) {
    const x = v[i] as number;
    if (x >= limit) {
      throw new FedveilError('zmod/value-out-of-range', `value ${x} at index ${i} does not fit in ${bits} bits`);
    }
  }
  if (bits === 32 && LITTLE_ENDIAN) {
    out.set(new Uint8Array(v.buffer, v.byteOffset, 4 * v.length));
    return out;
  }
  // Pending bits stay below 2^31 in an int32: fewer than 8 are left after each flush and at most
  // 24 are added at once (values wider than 24 bits go in as 16 + (bits − 16)).
  let acc = 0;
  let nacc = 0;
  let o = 0;
  const wide = bits > 24;
  const hiBits = bits - 16;
  for (let i = 0; i < v.length; i++) {
    const x = v[i] as number;
    if (wide) {
      acc |= (x & 0xffff) << nacc;
      nacc += 16;
      while (nacc >= 8) {
        out[o++] = acc & 0xff;
        acc >>>= 8;
        nacc -= 8;
      }
      acc |= (x >>> 16) << nacc;
      nacc += hiBits;
    } else {
      acc |= x << nacc;
      nacc += bits;
    }
    while (nacc >= 8) {
      out[o++] = acc & 0xff;
      acc >>>= 8;
      nacc -= 8;
    }
  }
  if (nacc > 0) out[o] = acc & 0xff;
  return out;
}

/**
 * Inverse of {@link packBits}. Throws `zmod/bad-packed-length` unless `bytes` has exactly
 * ceil(length·bits/8) bytes and `zmod/nonzero-padding` if the unused high bits of the last byte
 * are not zero (a packed vector has exactly one encoding).
 */
export function unpackBits(bytes: Uint8Array, length: number, bits: number): Uint32Array {
  check(bytes instanceof Uint8Array, 'zmod/bad-vector', 'packed input must be a Uint8Array');
  const expected = packedLength(length, bits);
  check(
    bytes.length === expected,
    'zmod/bad-packed-length',
    () => `packed vector of ${length} values × ${bits} bits needs ${expected} bytes, got ${bytes.length}`,
  );
  const used = (length * bits) % 8;
  if (used !== 0) {
    check(
      ((bytes[expected - 1] as number) >>> used) === 0,
      'zmod/nonzero-padding',
      'the unused high bits of the last packed byte must be zero',
    );
  }
  const out = new Uint32Array(length);
  if (bits === 32 && LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(bytes);
    return out;
  }
  // Mirror of packBits: an int32 bit buffer, values wider than 24 bits read as 16 + (bits − 16).
  let acc = 0;
  let nacc = 0;
  let p = 0;
  const wide = bits > 24;
  const take = wide ? 16 : bits;
  const takeMask = (1 << take) - 1;
  const hiBits = bits - 16;
  const hiMask = (1 << hiBits) - 1;
  for (let i = 0; i < length; i++) {
    while (nacc < take) {
      acc |= (bytes[p++] as number) << nacc;
      nacc += 8;
    }
    let val = acc & takeMask;
    acc >>>= take;
    nacc -= take;
    if (wide) {
      while (nacc < hiBits) {
        acc |= (bytes[p++] as number) << nacc;
        nacc += 8;
      }
      val += (acc & hiMask) * 65536;
      acc >>>= hiBits;
      nacc -= hiBits;
    }
    out[i] = val;
  }
  return out;
}
