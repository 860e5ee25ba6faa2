import { describe, expect, it } from 'vitest';
import { fromHex, nobleProvider, nodeProvider, sodiumProvider, toHex } from '../../src/secagg/index.js';
import { loadVector } from './helpers.js';

interface Iterated {
  iterated: { iterations: number; output: string }[];
}

const vectors = loadVector<Iterated>('x25519-rfc7748.json').iterated;

describe.each([nobleProvider, nodeProvider, sodiumProvider!])('RFC 7748 §5.2 iterated X25519 with the $name provider', (p) => {
  it.each(vectors)('$iterations iteration(s)', (v) => {
    let k = fromHex('09'.padEnd(64, '0'));
    let u = k;
    for (let i = 0; i < v.iterations; i++) {
      const next = p.x25519(k, u);
      u = k;
      k = next;
    }
    expect(toHex(k)).toBe(v.output);
  });
});
