import { describe, expect, it } from 'vitest';
import { nobleProvider, nodeProvider, sodiumProvider } from '../../src/secagg/index.js';
import { iteratedX25519, loadVector } from './helpers.js';

interface Iterated {
  iterated: { iterations: number; output: string }[];
}

const vectors = loadVector<Iterated>('x25519-rfc7748.json').iterated;

describe.each([nobleProvider, nodeProvider, sodiumProvider!])('RFC 7748 §5.2 iterated X25519 with the $name provider', (p) => {
  it.each(vectors)('$iterations iteration(s)', (v) => {
    expect(iteratedX25519(p, v.iterations)).toBe(v.output);
  });
});
