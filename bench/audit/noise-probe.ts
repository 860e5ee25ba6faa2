/**
 * The noise probe at a simulation's settings, measured on the encoding path itself: every round,
 * each contributor encodes an update of norm C (a random direction: the largest the clip lets
 * through, the most rounding it can cause) followed by the probe's P zeros, with the real client
 * encoder (clip → rotate → scale → round → its noise share → wrap; the under-noised encoder
 * FEDVEIL_TEST_NOISE_SCALE gives a participant when `factor` < 1); the encodings are summed
 * modulo 2^bits and decoded by the real server decoder, and the report's noise audit is computed
 * from the released probe values as verify-report recomputes it. What this leaves out is the
 * masking, which cancels exactly in the modular sum (the tests run the whole protocol); it is what
 * makes a bench at simulate's defaults (200 participants, 10 rounds) take seconds, not half an hour.
 */
import { performance } from 'node:perf_hooks';
import { SimulateOptionsSchema, cohortSize, type SimulateOptions } from '../../src/cli/simulate/options.js';
import { planSimulation } from '../../src/cli/simulate/plan.js';
import {
  buildReport,
  createClientEncoder,
  createServerDecoder,
  verifyReport,
  withNoiseProbes,
  type NoiseAudit,
  type RoundPrivacyEntry,
} from '../../src/dp/index.js';
import { randomUnitDirection } from '../../src/dp/audit/empirical-epsilon.js';
import { UniformStream } from '../../src/dp/noise/uniform-stream.js';
import { seededRandom } from '../../src/secagg/util/random.js';
import { roundDim } from '../../src/server/federated-evaluation.js';
import { federationDpConfig } from '../../src/server/federation-plan.js';
import { noiseProbeCoordinates, releasedNoiseProbe, withNoiseProbe } from '../../src/server/noise-probe.js';

/** Length of simulate's default model (logistic regression on MNIST: 784·10 + 10). */
const LOGREG_DIM = 7850;

/** One measured run: the report's noise audit and the codes verify-report gives it. */
export interface ProbeRun {
  seed: number;
  factor: number;
  audit: NoiseAudit;
  codes: string[];
  contributors: number[];
  seconds: number;
}

/** The noise audit of one simulated run of `settings` at `seed`, its participants adding `factor` of the noise. */
export function probeRun(settings: Partial<SimulateOptions>, seed: number, factor: number): ProbeRun {
  const t0 = performance.now();
  const o = SimulateOptionsSchema.parse({ ...settings, seed });
  const plan = planSimulation(o, LOGREG_DIM, ':memory:', 10_000);
  const dp = federationDpConfig(plan.config);
  const dim = roundDim(plan.config);
  const probe = noiseProbeCoordinates(plan.config);
  const model = dim - probe;
  const encoding = factor === 1 ? dp : { ...dp, noiseMultiplier: dp.noiseMultiplier * factor };
  const cohort = cohortSize(o);
  const rng = seededRandom(`bench/noise-probe/${seed}/${factor}`);
  const u = new UniformStream(rng);
  const ids = Array.from({ length: cohort }, (_, i) => i.toString(16).padStart(64, '0'));
  const mask = 2 ** dp.bits;
  const rounds: RoundPrivacyEntry[] = [];
  const probes = new Map<number, number[]>();
  for (let round = 0; round < o.rounds; round++) {
    // Binomial dropouts, as the simulation drops participants.
    const survivors = ids.filter(() => u.unit() >= o.dropout);
    const roundSeed = seededRandom(`round-seed/${seed}/${round}`).fill(new Uint8Array(32));
    const encoder = createClientEncoder(encoding, dim, roundSeed);
    const sum = new Float64Array(encoder.encodedLength);
    for (let k = 0; k < survivors.length; k++) {
      const direction = randomUnitDirection(model, rng);
      const update = new Float32Array(model);
      for (let i = 0; i < model; i++) update[i] = (direction[i] as number) * dp.clipNorm * (1 - 1e-6);
      const encoded = encoder.encode(withNoiseProbe(update, probe), rng);
      for (let i = 0; i < sum.length; i++) sum[i] = ((sum[i] as number) + (encoded[i] as number)) % mask;
    }
    const mean = createServerDecoder(dp, dim, roundSeed).decode(Uint32Array.from(sum), survivors.length, rng);
    probes.set(round, releasedNoiseProbe(mean, probe));
    rounds.push({ round, outcome: 'released', cohort: { kind: 'all', population: cohort }, contributors: survivors.length, contributorIds: survivors, dim, config: dp });
  }
  const report = withNoiseProbes(buildReport({ federationId: `bench-${seed}`, delta: o.delta, colluders: o.colluders, rounds }), probes);
  return {
    seed,
    factor,
    audit: report.noiseAudit as NoiseAudit,
    codes: verifyReport(report).map((d) => d.code),
    contributors: rounds.map((r) => r.contributors),
    seconds: (performance.now() - t0) / 1000,
  };
}
