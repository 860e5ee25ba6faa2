/**
 * Federated standardisation through the shipped participant page: browser tabs send their CSV's
 * feature moments in the statistics round and then train on their rows standardised exactly as
 * the ledger's statistics entry says. Node recomputes both from the same CSVs with the page's own
 * session code (cpu kernels, no DP), so a tab that sent other moments, or trained on rows
 * standardised otherwise (or not at all), would not fit the released values.
 */
import { describe, expect, it } from 'vitest';
import type { StatisticsEntry } from '../../src/server/ledger-entry.js';
import { localMoments, standardizedRows, standardizationOf, statisticsSpec } from '../../src/server/federated-statistics.js';
import { trainLocal } from '../../src/trainer/train.js';
import { checkLocalCsv, DEFAULT_TRAINING, federationModel, fetchFederation, roundSeed } from '../../web/participant/session.js';
import { chromium } from '../services.js';
import { participantPageSession, roundEntries, runBrowserFederation } from './browser-federation.js';

const browserService = chromium();
const SCALE = 1e-5;
/** Declared ranges of precipitation, temp_max, temp_min, wind. */
const FEDERATED = { federated: { lower: [0, -10, -15, 0], upper: [60, 40, 25, 10] } };

describe.skipIf(!browserService.available)('federated standardisation in browser tabs', () => {
  const session = participantPageSession(browserService.location as string);

  it('the tabs send their moments, then train with the standardisation the ledger records', { timeout: 120_000 }, async () => {
    const nodeMoments = () => ({ mean: [0.1, 0.4, 0.5, 0.3], meanSquare: [0.05, 0.2, 0.3, 0.1] });
    const nodeUpdate = (_i: number, dim: number) => new Float32Array(dim).fill(0.01);
    const run = await runBrowserFederation(session.browser, {
      tabs: 2,
      nodes: 1,
      rounds: 1,
      backend: 'cpu',
      dp: { mechanism: 'none', clipNorm: 10, bits: 32, scale: SCALE, rotation: false },
      standardize: FEDERATED,
      nodeMoments,
      nodeUpdate,
      app: { participantPage: { assetsDir: session.assetsDir } },
    });
    session.coordinators.push(run.running);
    expect(run.ledger.map((e) => e.kind)).toEqual(['genesis', 'statistics', 'round']);
    const stats = run.ledger[1] as StatisticsEntry;
    const spec = statisticsSpec(run.config)!;
    const info = await fetchFederation(run.running.url);
    const datasets = run.csvs.map((csv) => checkLocalCsv(csv, 'station.csv', info).dataset);

    // The statistics: the average of the tabs' and the Node client's moments (γ-quantised, scale C/√8).
    const moments = [...datasets.map((d) => localMoments(d, spec)), nodeMoments()];
    for (const k of ['mean', 'meanSquare'] as const) {
      stats.statistics.released[k].forEach((v, j) => expect(Math.abs(v - moments.reduce((s, m) => s + m[k][j]!, 0) / 3)).toBeLessThan(1e-4));
    }
    expect(stats.statistics.standardize).toEqual(standardizationOf(stats.statistics.released, spec));

    // The round: each tab's update recomputed on its rows standardised with the ledger's numbers.
    const dim = run.config.dim;
    const inputs: Float32Array[] = [];
    for (const dataset of datasets) {
      const rows = standardizedRows({ train: dataset, heldOut: null })(stats.statistics.standardize).train;
      const model = await federationModel(info, rows, DEFAULT_TRAINING.seed);
      const round = roundEntries(run.ledger)[0]!.round;
      const trained = await trainLocal(model, new Float32Array(dim), rows, {
        epochs: DEFAULT_TRAINING.epochs,
        batchSize: DEFAULT_TRAINING.batchSize,
        learningRate: DEFAULT_TRAINING.learningRate,
        optimizer: 'sgd',
        seed: roundSeed(DEFAULT_TRAINING, round),
      });
      model.dispose();
      inputs.push(trained.update);
    }
    inputs.push(nodeUpdate(0, dim));
    const after = new Float32Array(run.running.coordinator.model.weights.slice().buffer);
    const tolerance = inputs.length * SCALE + 1e-6;
    for (let j = 0; j < dim; j++) {
      const expected = inputs.reduce((s, u) => s + u[j]!, 0);
      expect(Math.abs(after[j]! * inputs.length - expected)).toBeLessThan(tolerance);
    }
    expect(run.errors.filter((e) => !/ERR_FAILED|net::/.test(e))).toEqual([]);
  });
});
