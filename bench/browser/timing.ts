/**
 * What the browser suite measures, in code that runs unchanged in Node and in the page: whole
 * in-memory SecAgg rounds with every client's share-keys and masked-input calls timed, and local
 * epochs of the logistic-regression model. Wall time (performance.now), because a page has no CPU
 * clock: both sides are timed the same way, on the same machine.
 */
import * as tf from '@tensorflow/tfjs';
import { planRound } from '../../src/protocol/config.js';
import { runRoundInMemory, type InstrumentTarget } from '../../src/protocol/in-memory.js';
import { testFederation } from '../../src/protocol/testing/fixtures.js';
import type { CryptoProvider } from '../../src/secagg/index.js';
import { seededRandom, systemRandom } from '../../src/secagg/util/random.js';
import type { Dataset } from '../../src/trainer/data/dataset.js';
import { createLogisticRegression } from '../../src/trainer/models.js';
import { trainLocal } from '../../src/trainer/train.js';
import { getFlatWeights } from '../../src/trainer/weights.js';

/** One round configuration: N clients on the complete graph (k = N), threshold t. */
export interface RoundCell {
  n: number;
  d: number;
  t: number;
  /** Rounds timed after one untimed warm-up round (JIT compilation). */
  rounds: number;
}

/** Per-client milliseconds of each timed round (mean over the round's clients). */
export interface RoundTimes {
  shareKeysMs: number[];
  maskedInputMs: number[];
}

/**
 * Runs `cell.rounds + 1` rounds with `provider` (malicious mode, as deployed: signatures and the
 * consistency check), production randomness for the clients, no dropouts and no DP noise.
 * `beforeRound(r)` runs before round r (0 is the untimed warm-up).
 */
export function timeRounds(cell: RoundCell, provider: CryptoProvider, beforeRound?: (r: number) => void): RoundTimes {
  const fed = testFederation({
    n: cell.n,
    threshold: cell.t,
    graph: { kind: 'complete' },
    mode: 'malicious',
    dim: cell.d,
    dp: { mechanism: 'none', bits: 32, scale: 1 / 2 ** 16, clipNorm: 1, rotation: false, noiseMultiplier: 0, minContributors: 1 },
    seed: `bench/browser/${cell.n}/${cell.d}`,
    provider,
  });
  const plan = planRound(fed.config);
  const update = new Float32Array(cell.d);
  const bytes = seededRandom('bench/browser/update').fill(new Uint8Array(cell.d));
  for (let i = 0; i < cell.d; i++) update[i] = ((bytes[i] as number) - 127.5) / (127.5 * Math.sqrt(cell.d));
  const inputs = Array.from({ length: cell.n }, () => () => update);
  const times: RoundTimes = { shareKeysMs: [], maskedInputMs: [] };
  for (let r = 0; r <= cell.rounds; r++) {
    beforeRound?.(r);
    const spent = new Map<string, { ms: number; clients: Set<number> }>();
    const instrument = <T>(target: InstrumentTarget, work: () => T): T => {
      const t0 = performance.now();
      const out = work();
      const key = `${target.role}/${target.phase}`;
      let e = spent.get(key);
      if (!e) spent.set(key, (e = { ms: 0, clients: new Set() }));
      e.ms += performance.now() - t0;
      if (target.index !== undefined) e.clients.add(target.index);
      return out;
    };
    const result = runRoundInMemory({
      config: plan,
      participants: fed.participants(inputs).map((p) => ({ ...p, rng: systemRandom })),
      serverRng: seededRandom(`bench/browser/server/${r}`),
      provider,
      instrument,
    });
    if (result.outcome.status !== 'completed') throw new Error(`bench round aborted: ${result.outcome.code} ${result.outcome.reason}`);
    if (r === 0) continue;
    const perClient = (key: string): number => {
      const e = spent.get(key);
      if (!e || e.clients.size === 0) throw new Error(`no client timed ${key}`);
      return e.ms / e.clients.size;
    };
    times.shareKeysMs.push(perClient('client/share-keys'));
    times.maskedInputMs.push(perClient('client/masked-input'));
  }
  return times;
}

/** One local-training configuration: the logistic-regression model on `examples` rows. */
export interface EpochCell {
  inputSize: number;
  numClasses: number;
  examples: number;
  batch: number;
  /** Epochs timed after one untimed warm-up epoch (kernel compilation). */
  repeats: number;
}

/** Synthetic rows of the model's shape: the cost of an epoch does not depend on the values. */
function syntheticData(cell: EpochCell): Dataset {
  const rng = seededRandom('bench/browser/data');
  const raw = rng.fill(new Uint8Array(cell.examples * cell.inputSize));
  const features = Float32Array.from(raw, (b) => b / 255);
  const labels = Uint8Array.from(rng.fill(new Uint8Array(cell.examples)), (b) => b % cell.numClasses);
  return { features, labels, size: cell.examples, featureShape: [cell.inputSize], numClasses: cell.numClasses };
}

/** Milliseconds of each timed epoch of `trainLocal` (SGD, as the participant page trains) on the current tfjs backend. */
export async function timeEpochs(cell: EpochCell): Promise<{ ms: number[]; dim: number }> {
  const model = createLogisticRegression(cell.inputSize, cell.numClasses, 1);
  const w0 = getFlatWeights(model);
  const data = syntheticData(cell);
  const ms: number[] = [];
  for (let r = 0; r <= cell.repeats; r++) {
    const t0 = performance.now();
    await trainLocal(model, w0, data, { epochs: 1, batchSize: cell.batch, learningRate: 0.05, optimizer: 'sgd', seed: r });
    if (r > 0) ms.push(performance.now() - t0);
  }
  model.dispose();
  return { ms, dim: w0.length };
}

/** The tfjs backend now in use. */
export function currentBackend(): string {
  return tf.getBackend();
}

/** The median of `xs` (the lower middle for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[(s.length - 1) >> 1] as number;
}
