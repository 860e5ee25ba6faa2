import { createCipheriv } from 'node:crypto';
import { sodium } from './sodium.js';
import { wasmChacha20Keystream } from './wasm/chacha20.js';

/*
 * The PRG's keystream: ChaCha20 of RFC 8439, key = the 32-byte seed, nonce = 12 zero bytes, block
 * counter from 0. Three interchangeable backends give the same bytes (tests pin them to the RFC's
 * vectors and to each other): libsodium writes into the caller's buffer without allocating; the
 * SIMD WebAssembly one (wasm/chacha20.wat) runs wherever WebAssembly does, the browser participant
 * included, and is the fallback; node:crypto (OpenSSL) returns a newly allocated output buffer per
 * call and accepts any write sizes, so it serves the PRG's byte-wise random source.
 */

/** Writes a stream's next `out.length` keystream bytes into `out`. */
export type KeystreamWriter = (out: Uint8Array) => void;

const ZERO_NONCE = new Uint8Array(12);
/** Zero input for libsodium's xor interface (keystream = 0 ⊕ keystream); grown on demand. */
let zeros = new Uint8Array(1 << 16);

function zeroInput(n: number): Uint8Array {
  if (zeros.length < n) zeros = new Uint8Array(n);
  return zeros.subarray(0, n);
}

/**
 * The libsodium backend, or undefined where libsodium is not loaded. Every call but the last must
 * write a multiple of 64 bytes (whole ChaCha20 blocks): the next call starts at the next block.
 */
export function sodiumKeystream(seed: Uint8Array): KeystreamWriter | undefined {
  const s = sodium;
  if (!s) return undefined;
  let block = 0;
  return (out) => {
    s.crypto_stream_chacha20_ietf_xor_ic(out, zeroInput(out.length), ZERO_NONCE, block, seed);
    block += out.length >>> 6;
  };
}

/** The node:crypto backend (any write sizes). OpenSSL's 16-byte IV is the LE32 counter ‖ nonce. */
export function nodeKeystream(seed: Uint8Array): KeystreamWriter {
  const cipher = createCipheriv('chacha20', seed, new Uint8Array(16));
  return (out) => out.set(cipher.update(zeroInput(out.length)));
}

/**
 * The SIMD WebAssembly backend (the same whole-block rule as {@link sodiumKeystream}). Throws
 * `prg/unsupported-platform` on a runtime without WebAssembly or on a big-endian host.
 */
export function wasmKeystream(seed: Uint8Array): KeystreamWriter {
  return wasmChacha20Keystream(seed);
}

/** Which backend {@link openKeystream} uses in this process. */
export const keystreamBackend: 'libsodium' | 'wasm' = sodium ? 'libsodium' : 'wasm';

/** The keystream of `seed` on the fastest backend available: libsodium, else WebAssembly. */
export function openKeystream(seed: Uint8Array): KeystreamWriter {
  return sodiumKeystream(seed) ?? wasmKeystream(seed);
}
