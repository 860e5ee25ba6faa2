import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { CryptoProvider } from '../../src/secagg/index.js';
import { FedveilError } from '../../src/secagg/util/errors.js';
import { fromHex, toHex } from '../../src/secagg/util/bytes.js';

/** Parsed JSON of spec/vectors/<name>. */
export function loadVector<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../spec/vectors/${name}`, import.meta.url), 'utf8')) as T;
}

/** Asserts that `fn` throws a FedveilError with exactly `code`. */
export function expectCode(fn: () => unknown, code: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected FedveilError ${code}`).toBeInstanceOf(FedveilError);
  expect((thrown as FedveilError).code).toBe(code);
}

/** RFC 7748 §5.2 iterated X25519: k = u = 9, then (k, u) ← (X25519(k, u), k), `iterations` times; hex of k. */
export function iteratedX25519(p: CryptoProvider, iterations: number): string {
  let k = fromHex('09'.padEnd(64, '0'));
  let u = k;
  for (let i = 0; i < iterations; i++) {
    const next = p.x25519(k, u);
    u = k;
    k = next;
  }
  return toHex(k);
}
