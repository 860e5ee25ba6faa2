import { check } from './util/errors.js';
import { randomBelow } from './util/random.js';
import { deriveKey } from './kdf.js';
import { prgRandomSource } from './prg.js';

/** Who exchanges masks and shares with whom in one round. Symmetric, no self-loops. */
export interface NeighbourGraph {
  /** Number of participants, indexed 0..n−1. */
  readonly n: number;
  /** The neighbours of participant `i`, sorted ascending, never including `i`. */
  neighbours(i: number): readonly number[];
}

/** Largest participant count accepted by the graph builders. */
export const MAX_PARTICIPANTS = 1 << 24;

function checkN(n: number): void {
  check(
    Number.isSafeInteger(n) && n >= 1 && n <= MAX_PARTICIPANTS,
    'graph/bad-n',
    () => `participant count must be an integer in [1, ${MAX_PARTICIPANTS}], got ${n}`,
  );
}

function checkIndex(i: number, n: number): void {
  check(
    Number.isSafeInteger(i) && i >= 0 && i < n,
    'graph/bad-index',
    () => `participant index must be an integer in [0, ${n - 1}], got ${i}`,
  );
}

/** Classic SecAgg: everyone is everyone else's neighbour (degree n − 1). */
export function completeGraph(n: number): NeighbourGraph {
  checkN(n);
  return {
    n,
    neighbours(i: number): readonly number[] {
      checkIndex(i, n);
      const out: number[] = [];
      for (let j = 0; j < n; j++) if (j !== i) out.push(j);
      return out;
    },
  };
}

/**
 * The public permutation that places participants on the SecAgg+ ring: Fisher–Yates (from the last
 * position down, j = uniform in [0, i] by rejection sampling) driven by
 * PRG(deriveKey('graph', roundSeed, u32be(n))). Returns ring[position] = participant.
 */
export function graphPermutation(n: number, roundSeed: Uint8Array): Uint32Array {
  checkN(n);
  check(roundSeed instanceof Uint8Array && roundSeed.length === 32, 'graph/bad-seed', 'round seed must be 32 bytes');
  const ctx = new Uint8Array(4);
  new DataView(ctx.buffer).setUint32(0, n, false);
  const rng = prgRandomSource(deriveKey('graph', roundSeed, ctx));
  const ring = new Uint32Array(n);
  for (let i = 0; i < n; i++) ring[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = randomBelow(rng, i + 1);
    const tmp = ring[i] as number;
    ring[i] = ring[j] as number;
    ring[j] = tmp;
  }
  return ring;
}

/**
 * The SecAgg+ neighbour graph (Bell et al., CCS 2020): a Harary graph H(degree, n) — the circulant
 * graph linking ring positions at distance 1..degree/2, plus the opposite position when the degree
 * is odd (n even) — whose ring positions are filled by the public {@link graphPermutation} of the
 * round seed. Every participant has exactly `degree` neighbours; `degree ≥ n − 1` gives the
 * complete graph. Throws `graph/bad-degree` for a negative degree or an odd degree with odd n.
 */
export function secaggPlusGraph(n: number, degree: number, roundSeed: Uint8Array): NeighbourGraph {
  checkN(n);
  check(Number.isSafeInteger(degree) && degree >= 0, 'graph/bad-degree', () => `degree must be a non-negative integer, got ${degree}`);
  check(roundSeed instanceof Uint8Array && roundSeed.length === 32, 'graph/bad-seed', 'round seed must be 32 bytes');
  if (degree >= n - 1) return completeGraph(n);
  check(
    degree % 2 === 0 || n % 2 === 0,
    'graph/bad-degree',
    () => `no ${degree}-regular graph on ${n} nodes exists (degree × n must be even)`,
  );
  const ring = graphPermutation(n, roundSeed);
  const position = new Uint32Array(n);
  for (let p = 0; p < n; p++) position[ring[p] as number] = p;
  const half = Math.floor(degree / 2);
  const lists: number[][] = [];
  for (let i = 0; i < n; i++) {
    const p = position[i] as number;
    const list: number[] = [];
    for (let s = 1; s <= half; s++) {
      list.push(ring[(p + s) % n] as number, ring[(p - s + n) % n] as number);
    }
    if (degree % 2 === 1) list.push(ring[(p + n / 2) % n] as number);
    list.sort((a, b) => a - b);
    lists.push(list);
  }
  return {
    n,
    neighbours(i: number): readonly number[] {
      checkIndex(i, n);
      return lists[i] as number[];
    },
  };
}

/** Options of {@link secaggPlusParameters}. */
export interface SecaggPlusOptions {
  /** Number of participants in the round. */
  n: number;
  /** Largest fraction of participants that may drop out (δ), in [0, 1). */
  dropoutFraction: number;
  /** Largest fraction of participants the adversary may corrupt (γ), in [0, 1). */
  corruptionFraction: number;
  /** σ: each security failure event has probability at most 2^−σ. Default 40. */
  securityBits?: number;
  /** η: the round fails to complete with probability at most 2^−η. Default 30. */
  correctnessBits?: number;
}

function logFactorials(n: number): Float64Array {
  const lf = new Float64Array(n + 1);
  for (let i = 2; i <= n; i++) lf[i] = (lf[i - 1] as number) + Math.log(i);
  return lf;
}

/** ln C(a, b) from a log-factorial table; −∞ outside 0 ≤ b ≤ a. */
function logChoose(lf: Float64Array, a: number, b: number): number {
  if (b < 0 || b > a) return -Infinity;
  return (lf[a] as number) - (lf[b] as number) - (lf[a - b] as number);
}

/** upper[x] = P[X ≥ x] for X ~ Hypergeometric(population N, K marked, k draws), x = 0..k+1. */
function hypergeometricUpperTails(lf: Float64Array, N: number, K: number, k: number): Float64Array {
  const upper = new Float64Array(k + 2);
  const total = logChoose(lf, N, k);
  for (let x = k; x >= 0; x--) {
    const pmf = Math.exp(logChoose(lf, K, x) + logChoose(lf, N - K, k - x) - total);
    upper[x] = (upper[x + 1] as number) + pmf;
  }
  return upper;
}

/**
 * SecAgg+ degree k and threshold t for n participants, at most δn dropouts and γn corrupted
 * (Bell et al. 2020, with union bounds evaluated exactly for the relabelled Harary graph, where
 * a participant's neighbours are a uniform k-subset of the other n − 1). With C = ⌊γn⌋,
 * D = ⌊δn⌋, the result is the smallest even k < n − 1 and the smallest t > k/2 such that
 *  (S1) n · P[Hyp(n−1, C, k) ≥ t] ≤ 2^−σ   — no participant has t corrupted neighbours;
 *  (S2) n · P[Hyp(n, C+D, k/2) = k/2] ≤ 2^−σ — no k/2 consecutive ring positions are all dropped
 *       or corrupted, so the honest survivors stay connected and pairwise masks hide every
 *       partial sum;
 *  (C)  n · P[Hyp(n−1, D, k) ≥ k − t + 1] ≤ 2^−η — every survivor keeps t live neighbours.
 * When no such k exists, the complete graph: k = n − 1, t = max(⌊k/2⌋ + 1, C + 1), which must
 * satisfy n − 1 − D ≥ t, else `graph/infeasible`. spec/secagg.md states the derivation.
 */
export function secaggPlusParameters(opts: SecaggPlusOptions): { degree: number; threshold: number } {
  check(typeof opts === 'object' && opts !== null, 'graph/bad-parameters', 'options must be an object');
  const { n, dropoutFraction: delta, corruptionFraction: gamma } = opts;
  const sigma = opts.securityBits ?? 40;
  const eta = opts.correctnessBits ?? 30;
  check(Number.isSafeInteger(n) && n >= 2 && n <= 1_000_000, 'graph/bad-parameters', () => `n must be an integer in [2, 10^6], got ${n}`);
  check(
    Number.isFinite(delta) && delta >= 0 && delta < 1,
    'graph/bad-parameters',
    () => `dropout fraction must be in [0, 1), got ${delta}`,
  );
  check(
    Number.isFinite(gamma) && gamma >= 0 && gamma < 1,
    'graph/bad-parameters',
    () => `corruption fraction must be in [0, 1), got ${gamma}`,
  );
  check(Number.isFinite(sigma) && sigma > 0 && sigma <= 256, 'graph/bad-parameters', () => `security bits must be in (0, 256], got ${sigma}`);
  check(Number.isFinite(eta) && eta > 0 && eta <= 256, 'graph/bad-parameters', () => `correctness bits must be in (0, 256], got ${eta}`);
  const C = Math.floor(gamma * n);
  const D = Math.floor(delta * n);
  const bad = Math.min(n, C + D);
  const lf = logFactorials(n);
  const secBound = 2 ** -sigma / n;
  const corBound = 2 ** -eta / n;
  for (let k = 2; k < n - 1; k += 2) {
    const half = k / 2;
    // (S2): all k/2 positions of one window bad.
    const window = Math.exp(logChoose(lf, bad, half) - logChoose(lf, n, half));
    if (window > secBound) continue;
    const corrupt = hypergeometricUpperTails(lf, n - 1, C, k);
    let t = half + 1;
    while (t <= k && (corrupt[t] as number) > secBound) t++;
    if (t > k) continue;
    const dropped = hypergeometricUpperTails(lf, n - 1, D, k);
    if ((dropped[k - t + 1] as number) <= corBound) return { degree: k, threshold: t };
  }
  const k = n - 1;
  const t = Math.max(Math.floor(k / 2) + 1, C + 1);
  check(
    n - 1 - D >= t,
    'graph/infeasible',
    () => `no threshold works for n=${n}: ${D} dropouts leave ${n - 1 - D} neighbours but security needs t ≥ ${t}`,
  );
  return { degree: k, threshold: t };
}
