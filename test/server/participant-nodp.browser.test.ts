/**
 * The browser participant's update reaches the sum unaltered: a no-DP round of browser tabs (the
 * shipped page, tfjs on its cpu backend) and Node clients releases exactly the sum of their
 * updates, up to the fixed-point rounding. Node knows every input: the Node clients send fixed
 * vectors, and each tab's update is recomputed here from the same CSV, schema, global weights and
 * shuffling seed with the page's own session code, on the same deterministic cpu kernels.
 */
import { describe, expect, it } from 'vitest';
import { trainLocal } from '../../src/trainer/train.js';
import { checkLocalCsv, DEFAULT_TRAINING, federationModel, fetchFederation, roundSeed } from '../../web/participant/session.js';
import { chromium } from '../services.js';
import { participantPageSession, roundEntries, runBrowserFederation } from './browser-federation.js';

const browserService = chromium();

/** γ of the run: each contributor's rounding moves a coordinate of the sum by less than γ. */
const SCALE = 1e-5;

describe.skipIf(!browserService.available)('a no-DP federation of browser tabs and Node clients', () => {
  const session = participantPageSession(browserService.location as string);

  it('releases the sum of the tabs\' trained updates and the Node clients\' updates', { timeout: 90_000 }, async () => {
    const nodeUpdate = (i: number, dim: number) => Float32Array.from({ length: dim }, (_, j) => 0.02 * Math.sin(1 + i * dim + j));
    const run = await runBrowserFederation(session.browser, {
      tabs: 2,
      nodes: 2,
      rounds: 1,
      backend: 'cpu',
      dp: { mechanism: 'none', clipNorm: 10, bits: 32, scale: SCALE, rotation: false },
      nodeUpdate,
      app: { participantPage: { assetsDir: session.assetsDir } },
    });
    session.coordinators.push(run.running);
    const dim = run.config.dim;
    const [round] = roundEntries(run.ledger);
    expect(round?.contributors).toHaveLength(4);
    for (const tab of run.tabs) expect(await tab.getAttribute('#backend', 'data-backend')).toBe('cpu');

    // Each tab's update, recomputed in Node: round 0 trains from the coordinator's initial model (zeros).
    const info = await fetchFederation(run.running.url);
    const inputs: Float32Array[] = [];
    for (const csv of run.csvs) {
      const { dataset } = checkLocalCsv(csv, 'station.csv', info);
      const model = await federationModel(info, dataset, DEFAULT_TRAINING.seed);
      const trained = await trainLocal(model, new Float32Array(dim), dataset, {
        epochs: DEFAULT_TRAINING.epochs,
        batchSize: DEFAULT_TRAINING.batchSize,
        learningRate: DEFAULT_TRAINING.learningRate,
        optimizer: 'sgd',
        seed: roundSeed(DEFAULT_TRAINING, 0),
      });
      model.dispose();
      inputs.push(trained.update);
    }
    for (let i = 0; i < 2; i++) inputs.push(nodeUpdate(i, dim));
    const expected = new Float64Array(dim);
    for (const u of inputs) for (let j = 0; j < dim; j++) expected[j]! += u[j]!;

    // The released sum: the model's change (FedAvg, server learning rate 1) times the contributors.
    const after = new Float32Array(run.running.coordinator.model.weights.slice().buffer);
    const released = Array.from(after, (w) => w * inputs.length);
    // Randomized rounding moves each contributor's coordinate by < γ; float32 storage adds a little.
    const tolerance = inputs.length * SCALE + 1e-6;
    for (let j = 0; j < dim; j++) expect(Math.abs(released[j]! - expected[j]!)).toBeLessThan(tolerance);

    // The check can fail: each tab's trained update is far larger than the tolerance, so a tab
    // whose update were lost, zeroed or trained differently would not fit.
    for (const u of inputs.slice(0, 2)) expect(Math.max(...Array.from(u, Math.abs))).toBeGreaterThan(100 * tolerance);
    expect(run.errors.filter((e) => !/ERR_FAILED|net::/.test(e))).toEqual([]);
  });
});
