import { check } from './util/errors.js';

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
  const n = acc.length;
  if (bits === 32) {
    for (let i = 0; i < n; i++) acc[i] = ((acc[i] as number) + (x[i] as number)) >>> 0;
  } else {
    const m = bitMask(bits);
    for (let i = 0; i < n; i++) acc[i] = ((acc[i] as number) + (x[i] as number)) & m;
  }
}

/** acc[i] = (acc[i] − x[i]) mod 2^bits, in place; outputs always reduced. */
export function subMod(acc: Uint32Array, x: Uint32Array, bits: number): void {
  checkPair(acc, x, bits);
  const n = acc.length;
  if (bits === 32) {
    for (let i = 0; i < n; i++) acc[i] = ((acc[i] as number) - (x[i] as number)) >>> 0;
  } else {
    const m = bitMask(bits);
    for (let i = 0; i < n; i++) acc[i] = ((acc[i] as number) - (x[i] as number)) & m;
  }
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
  let acc = 0; // pending bits, fewer than 8 after each flush
  let nacc = 0;
  let o = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i] as number;
    check(x < limit, 'zmod/value-out-of-range', () => `value ${x} at index ${i} does not fit in ${bits} bits`);
    // Feed the value in pieces of at most 16 bits so `acc` stays below 2^24 (exact in int32).
    let rem = bits;
    let val = x;
    while (rem > 0) {
      const take = rem > 16 ? 16 : rem;
      acc |= (val & ((1 << take) - 1)) << nacc;
      nacc += take;
      val = take === 16 ? Math.floor(val / 65536) : 0;
      rem -= take;
      while (nacc >= 8) {
        out[o++] = acc & 0xff;
        acc >>>= 8;
        nacc -= 8;
      }
    }
  }
  if (nacc > 0) out[o++] = acc & 0xff;
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
  let acc = 0;
  let nacc = 0;
  let p = 0;
  for (let i = 0; i < length; i++) {
    let rem = bits;
    let val = 0;
    let scale = 1;
    while (rem > 0) {
      const take = rem > 16 ? 16 : rem;
      while (nacc < take) {
        acc |= (bytes[p++] as number) << nacc;
        nacc += 8;
      }
      val += (acc & ((1 << take) - 1)) * scale;
      acc >>>= take;
      nacc -= take;
      scale *= 1 << take;
      rem -= take;
    }
    out[i] = val;
  }
  return out;
}
