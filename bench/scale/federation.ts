import { nodeProvider, seededRandom, toHex, type KeyPair } from '../../src/secagg/index.js';

/** The deterministic identity of participant `i` of a scale run (the coordinator's allow-list and the workers derive the same keys). */
export function scaleIdentity(i: number): KeyPair {
  return nodeProvider.ed25519Keygen(seededRandom(`fedveil-scale/${i}`));
}

/** Whether cohort member `index` of `n` drops out: the first ⌈dropout·n⌉ of a fixed permutation. */
export function shouldDrop(index: number, n: number, dropout: number): boolean {
  const drops = Math.round(dropout * n);
  if (drops === 0) return false;
  const rank = (i: number) => (i * 2654435761) % 4294967296;
  // index is among the `drops` smallest ranks
  let smaller = 0;
  const r = rank(index);
  for (let j = 0; j < n; j++) if (rank(j) < r) smaller++;
  return smaller < drops;
}

/** The federation config of a scale run. */
export function scaleConfig(o: { n: number; d: number; dropout: number; graph: 'secagg+' | 'complete'; mode: 'semi-honest' | 'malicious'; dir: string; deadlineMs: number }): Record<string, unknown> {
  const deadline = o.deadlineMs;
  return {
    federationId: 'fed-scale',
    participants: Array.from({ length: o.n }, (_, i) => toHex(scaleIdentity(i).publicKey)),
    rounds: 1,
    cohort: { size: o.n },
    // SecAgg+: Bell et al.'s k and t for the fractions below decide (the configured floor is the least allowed).
    threshold: o.graph === 'secagg+' ? 2 : Math.floor(o.n / 2) + 1,
    neighbours: o.graph === 'secagg+' ? { mode: 'secagg+', dropoutFraction: Math.max(o.dropout, 0.05), corruptionFraction: 0.1 } : { mode: 'complete' },
    mode: o.mode,
    // No noise (as Flower's SecAgg+), a 32-bit modulus: the figures are the protocol's.
    dp: { mechanism: 'none', clipNorm: 1, bits: 32, scale: 1 / 2 ** 16 },
    model: { name: 'scale' },
    dim: o.d,
    deadlines: { 'advertise-keys': deadline, 'share-keys': deadline, 'masked-input': deadline, 'consistency-check': deadline, unmask: deadline },
    storage: { path: `${o.dir}/coordinator.db` },
    longPollMs: 20_000,
    maxBodyBytes: 8 * o.d + 1024 * 1024,
  };
}
