/**
 * Secure-aggregation core benchmarks: PRG expand-and-accumulate throughput, X25519 and Ed25519
 * operation rates for every provider, Shamir share/reconstruct cost. Figures are medians of
 * several timed batches after a warm-up, timed in this process's CPU time (user + system), so they
 * are per-core rates even when other work shares the machine's cores.
 */
import { keystreamBackend, nodeKeystream, sodiumKeystream, wasmKeystream, type KeystreamWriter } from '../../src/secagg/keystream.js';
import type { BenchResult } from '../results.js';
import {
  LagrangeBasis,
  nobleProvider,
  nodeProvider,
  sodiumProvider,
  prgAccumulate,
  seededRandom,
  shamirCombine,
  shamirSplit,
  type CryptoProvider,
} from '../../src/secagg/index.js';

/** CPU seconds (user + system) this process has used. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Median seconds per call of `fn`, over `batches` batches of about `batchSeconds` each. */
function secondsPerCall(fn: () => void, batchSeconds = 0.25, batches = 5): number {
  // Warm-up doubles as calibration of the batch size.
  let reps = 1;
  for (;;) {
    const t0 = cpuSeconds();
    for (let i = 0; i < reps; i++) fn();
    const dt = cpuSeconds() - t0;
    if (dt >= batchSeconds / 4) {
      reps = Math.max(1, Math.round((reps * batchSeconds) / dt));
      break;
    }
    reps *= 2;
  }
  const samples: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = cpuSeconds();
    for (let i = 0; i < reps; i++) fn();
    samples.push((cpuSeconds() - t0) / reps);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] as number;
}

const round = (v: number, digits = 3): number => Number(v.toPrecision(digits + 2));

function prgBench(): BenchResult[] {
  const out: BenchResult[] = [];
  const seed = seededRandom('bench/prg').fill(new Uint8Array(32));
  // One stream (a lone PRG expansion) and 21 streams (a SecAgg+ client's self mask and 20 pairwise
  // masks in one call, as the protocol makes it).
  for (const streams of [1, 21]) {
    const masks = Array.from({ length: streams }, (_, i) => ({ seed: seededRandom(`bench/prg/${i}`).fill(new Uint8Array(32)), sign: i % 2 === 0 ? 1 : -1 }) as const);
    for (const d of [100_000, 1_000_000]) {
      const acc = new Uint32Array(d);
      const s = secondsPerCall(() => prgAccumulate(acc, masks, 32));
      out.push({
        metric: 'prg_accumulate_mb_per_s',
        value: round((4 * d * streams) / 1e6 / s),
        unit: 'MB/s',
        params: { d, streams, keystream: keystreamBackend, bits: 32 },
        target: 1000,
      });
    }
  }
  // The ceiling: the keystream alone on each backend, in the same 64 KiB writes, no accumulation.
  const d = 1_000_000;
  const chunk = new Uint8Array(1 << 16);
  for (const [backend, open] of [
    ['libsodium', sodiumKeystream],
    ['node:crypto', nodeKeystream],
    ['wasm', wasmKeystream],
  ] as const) {
    if (open(seed) === undefined) continue;
    const ks = secondsPerCall(() => {
      const write = open(seed) as KeystreamWriter;
      for (let off = 0; off < 4 * d; off += chunk.length) write(chunk);
    });
    out.push({ metric: 'prg_keystream_mb_per_s', value: round((4 * d) / 1e6 / ks), unit: 'MB/s', params: { d, keystream: backend } });
  }
  return out;
}

function curveBench(p: CryptoProvider): BenchResult[] {
  const rng = seededRandom(`bench/${p.name}`);
  const a = p.x25519Keygen(rng);
  const b = p.x25519Keygen(rng);
  const dh = secondsPerCall(() => p.x25519(a.secretKey, b.publicKey));
  const keygen = secondsPerCall(() => p.x25519Keygen(rng));
  const ed = p.ed25519Keygen(rng);
  const msg = rng.fill(new Uint8Array(128));
  const sig = p.ed25519Sign(ed.secretKey, msg);
  const verify = secondsPerCall(() => {
    if (!p.ed25519Verify(ed.publicKey, msg, sig)) throw new Error('signature did not verify');
  });
  const sign = secondsPerCall(() => p.ed25519Sign(ed.secretKey, msg));
  return [
    { metric: 'x25519_dh_per_s', value: round(1 / dh), unit: 'ops/s', params: { provider: p.name } },
    { metric: 'x25519_keygen_per_s', value: round(1 / keygen), unit: 'ops/s', params: { provider: p.name } },
    { metric: 'ed25519_verify_per_s', value: round(1 / verify), unit: 'ops/s', params: { provider: p.name, message_bytes: 128 } },
    { metric: 'ed25519_sign_per_s', value: round(1 / sign), unit: 'ops/s', params: { provider: p.name, message_bytes: 128 } },
  ];
}

function shamirBench(): BenchResult[] {
  const out: BenchResult[] = [];
  const rng = seededRandom('bench/shamir');
  for (const k of [100, 1000]) {
    const t = Math.floor(k / 2) + 1;
    const xs = Array.from({ length: k }, (_, i) => i + 1);
    const secret = rng.fill(new Uint8Array(31));
    const budget = k >= 1000 ? 1 : 0.25;
    const share = secondsPerCall(() => shamirSplit(secret, t, xs, rng), budget, 3);
    const shares = shamirSplit(secret, t, xs, rng).slice(k - t);
    const reconstruct = secondsPerCall(() => shamirCombine(shares, t, 31), budget, 3);
    const basis = new LagrangeBasis(shares.map((s) => s.x));
    const ys = shares.map((s) => s.y);
    const withBasis = secondsPerCall(() => basis.combine(ys, 31), 0.25, 3);
    const all = shamirSplit(secret, t, xs, rng);
    const checked = secondsPerCall(() => shamirCombine(all, t, 31), budget, 3);
    out.push(
      { metric: 'shamir_share_ms', value: round(share * 1e3), unit: 'ms', params: { k, t, secret_bytes: 31 } },
      { metric: 'shamir_reconstruct_ms', value: round(reconstruct * 1e3), unit: 'ms', params: { k, t, shares: t } },
      { metric: 'shamir_reconstruct_reused_basis_ms', value: round(withBasis * 1e3), unit: 'ms', params: { k, t, shares: t } },
      { metric: 'shamir_reconstruct_checked_ms', value: round(checked * 1e3), unit: 'ms', params: { k, t, shares: k } },
    );
  }
  return out;
}

/** Runs the suite. */
export async function run(): Promise<BenchResult[]> {
  const fast = sodiumProvider ? [curveBench(sodiumProvider)] : [];
  return [...prgBench(), ...fast.flat(), ...curveBench(nodeProvider), ...curveBench(nobleProvider), ...shamirBench()];
}
