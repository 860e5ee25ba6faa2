/**
 * bench/dp: accountant latency, sampler throughput and the encoding pipeline at d = 1e6.
 * Each figure is the median over repetitions of the process CPU time (user + system) of one
 * operation, so a loaded machine (other jobs on the 2 cores) does not inflate it; the wall-clock
 * median and the 1-minute load average are recorded in params for context.
 */
import { loadavg } from 'node:os';
import {
  UniformStream,
  calibrateNoiseMultiplier,
  createClientEncoder,
  createServerDecoder,
  decodeSum,
  discreteGaussianSamples,
  poissonGaussianEvent,
  rdpEpsilon,
  modelObserverEvent,
  skellamSamples,
  type DpConfig,
  type DpEvent,
} from '../../src/dp/index.js';
import { systemRandom } from '../../src/secagg/util/random.js';
import type { BenchResult } from '../results.js';

interface Timing {
  cpuMs: number;
  wallMs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** Median CPU and wall time of `fn` over `reps` runs after `warmup` unmeasured runs. */
function time(fn: () => unknown, reps: number, warmup = 1): Timing {
  for (let i = 0; i < warmup; i++) fn();
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    fn();
    wall.push(performance.now() - w0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { cpuMs: median(cpu), wallMs: median(wall) };
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const load = (): number => round3(loadavg()[0] ?? 0);

/** Runs the dp suite. */
export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];

  // epsilon_ms: one ε for 10k rounds (P08-like Gaussian; P17-like Skellam).
  const gaussEvent = poissonGaussianEvent(0.01, 1.1, 10_000);
  const gauss = time(() => rdpEpsilon(gaussEvent, 1e-5), 15, 3);
  results.push({ metric: 'epsilon_ms', value: round3(gauss.cpuMs), unit: 'ms', params: { mechanism: 'gaussian', steps: 10_000, q: 0.01, sigma: 1.1, wall_ms: round3(gauss.wallMs), load1: load() }, target: 20 });
  const skConfig: DpConfig = { mechanism: 'skellam', clipNorm: 1, bits: 32, scale: 1 / 4096, rotation: true, noiseMultiplier: 1, minContributors: 10 };
  const skEvent: DpEvent = { kind: 'self_composed', count: 10_000, event: modelObserverEvent(skConfig, { kind: 'poisson', rate: 0.01, population: 1000, secretSeed: true }, 10, 0, 65_536, 'add-remove') };
  const sk = time(() => rdpEpsilon(skEvent, 1e-5), 15, 3);
  results.push({ metric: 'epsilon_ms', value: round3(sk.cpuMs), unit: 'ms', params: { mechanism: 'skellam', steps: 10_000, q: 0.01, dim: 65_536, wall_ms: round3(sk.wallMs), load1: load() }, target: 20 });

  // calibrate_ms: noise multiplier for ε = 1 (P15) and ε = 8 (P16).
  for (const [epsilon, q, steps] of [
    [1, 0.01, 1000],
    [8, 0.04, 2000],
  ] as const) {
    const c = time(() => calibrateNoiseMultiplier({ epsilon, delta: 1e-5, samplingRate: q, steps }), 5, 1);
    results.push({ metric: 'calibrate_ms', value: round3(c.cpuMs), unit: 'ms', params: { epsilon, delta: 1e-5, q, steps, wall_ms: round3(c.wallMs), load1: load() }, target: 200 });
  }

  // Sampler throughput: 1e6 draws. Target 1e7/s: the noise of a d = 1e6 vector within the 100 ms encode budget.
  const n = 1_000_000;
  for (const mu of [4096 ** 2 / 20, 5]) {
    const s = time(() => skellamSamples(mu, n, systemRandom), 5, 1);
    results.push({ metric: 'skellam_samples_per_s', value: Math.round(n / (s.cpuMs / 1000)), unit: 'samples/s', params: { mu: round3(mu), n, wall_ms: round3(s.wallMs), load1: load() }, target: 1e7 });
  }
  for (const sigma of [4096 / Math.sqrt(10), 2]) {
    const s = time(() => discreteGaussianSamples(sigma, n, systemRandom), 5, 1);
    results.push({ metric: 'dgauss_samples_per_s', value: Math.round(n / (s.cpuMs / 1000)), unit: 'samples/s', params: { sigma: round3(sigma), n, wall_ms: round3(s.wallMs), load1: load() }, target: 1e7 });
  }
  const u = new UniformStream(systemRandom);
  const un = time(() => {
    let acc = 0;
    for (let i = 0; i < 4 * n; i++) acc += u.unit();
    return acc;
  }, 5, 1);
  results.push({ metric: 'uniform_doubles_per_s', value: Math.round((4 * n) / (un.cpuMs / 1000)), unit: 'doubles/s', params: { n: 4 * n, wall_ms: round3(un.wallMs), load1: load() } });

  // encode_ms / decode_ms at d = 1e6 (padded to 2^20 with rotation).
  const d = 1_000_000;
  const seed = new Uint8Array(32).fill(1);
  const update = new Float32Array(d).map((_, i) => Math.sin(i) * 1e-3);
  for (const mechanism of ['skellam', 'ddg'] as const) {
    const config: DpConfig = { ...skConfig, mechanism };
    const enc = createClientEncoder(config, d, seed);
    let encoded: Uint32Array = new Uint32Array(0);
    const e = time(() => (encoded = enc.encode(update, systemRandom)), 5, 1);
    results.push({ metric: 'encode_ms', value: round3(e.cpuMs), unit: 'ms', params: { d, mechanism, rotation: true, bits: 32, wall_ms: round3(e.wallMs), load1: load() }, target: 100 });
    if (mechanism === 'skellam') {
      // The server's path: one decoder per round (signs derived once), one decode per sum.
      const decoder = createServerDecoder(config, d, seed);
      const dec = time(() => decoder.decode(encoded, 1, systemRandom), 5, 1);
      results.push({ metric: 'decode_ms', value: round3(dec.cpuMs), unit: 'ms', params: { d, mechanism, rotation: true, bits: 32, wall_ms: round3(dec.wallMs), load1: load() } });
      const once = time(() => decodeSum(config, d, seed, encoded, 1, systemRandom), 5, 1);
      results.push({ metric: 'decode_ms', value: round3(once.cpuMs), unit: 'ms', params: { d, mechanism, rotation: true, bits: 32, including: 'sign derivation (decodeSum)', wall_ms: round3(once.wallMs), load1: load() } });
    }
  }
  // Secure aggregation without DP noise or rotation: clip, round and wrap only.
  const plain = createClientEncoder({ ...skConfig, mechanism: 'none', noiseMultiplier: 0, rotation: false }, d, seed);
  let plainEncoded: Uint32Array = new Uint32Array(0);
  const pe = time(() => (plainEncoded = plain.encode(update, systemRandom)), 5, 1);
  results.push({ metric: 'encode_ms', value: round3(pe.cpuMs), unit: 'ms', params: { d, mechanism: 'none', rotation: false, bits: 32, wall_ms: round3(pe.wallMs), load1: load() } });
  // Its decode is one pass (centre, scale and divide fused).
  const plainDecoder = createServerDecoder({ ...skConfig, mechanism: 'none', noiseMultiplier: 0, rotation: false }, d, seed);
  const pd = time(() => plainDecoder.decode(plainEncoded, 1, systemRandom), 5, 1);
  results.push({ metric: 'decode_ms', value: round3(pd.cpuMs), unit: 'ms', params: { d, mechanism: 'none', rotation: false, bits: 32, wall_ms: round3(pd.wallMs), load1: load() } });
  return results;
}
