import { describe, expect, it } from 'vitest';
import { accountable, AXES, commandOf, defaultRounds, recipeOf, TUNED, utilityOptions } from '../../bench/utility/index.js';
import { SimulateOptionsSchema } from '../../src/cli/simulate/options.js';
import { accuracyEpsilonSeriesSvg } from '../../bench/accuracy/svg.js';

describe('the privacy-utility grid', () => {
  it('every point it runs is a valid simulation with a secret Poisson draw; Skellam with PLD is no point', () => {
    let points = 0;
    for (const mechanism of AXES.mechanism) {
      for (const accountant of AXES.accountant) {
        if (!accountable(mechanism, accountant)) {
          expect(() => SimulateOptionsSchema.parse({ dp: mechanism, accountant, epsilon: 4 })).toThrow(/PLD/);
          continue;
        }
        for (const clipping of AXES.clipping) {
          for (const model of AXES.model) {
            for (const population of AXES.population) {
              const o = SimulateOptionsSchema.parse(utilityOptions(population, model, 4, { mechanism, accountant, clipping, rounds: defaultRounds(model) }));
              expect(o.draw).toBe('poisson');
              expect(o.epsilonAgainst).toBe('model-observer');
              expect(o.cohort).toBeLessThan(population);
              expect(o.adaptiveClip).toBe(clipping === 'adaptive');
              points++;
            }
          }
        }
      }
    }
    expect(points).toBe(3 * 2 * 2 * 3);
  });

  it('prints a point as the simulate command that reruns it', () => {
    const cmd = commandOf({ clients: 1000, adaptiveClip: true, dp: 'central', insecureBaseline: false });
    expect(cmd).toBe('fedveil simulate --clients 1000 --adaptive-clip --dp central');
  });

  it('takes a recipe from the bench options, and the command it prints reruns exactly that recipe', () => {
    const recipe = recipeOf('mlp', { cohort: '500', hidden: '64,32', 'local-epochs': '5', 'server-lr': '2', 'model-average': '0.8' });
    expect(recipe).toMatchObject({ cohort: 500, hidden: [64, 32], localEpochs: 5, serverLr: 2, modelAverage: 0.8, learningRate: TUNED.mlp.learningRate, clip: TUNED.mlp.clip });
    const given = utilityOptions(1000, 'mlp', 4, { mechanism: 'central', accountant: 'pld', clipping: 'fixed', rounds: 20 }, recipe);
    const o = SimulateOptionsSchema.parse(given);
    expect(o).toMatchObject({ cohort: 500, hidden: [64, 32], localEpochs: 5, modelAverage: 0.8, draw: 'poisson', epsilonAgainst: 'model-observer' });
    const cmd = commandOf(given);
    expect(cmd).toContain('--cohort 500');
    expect(cmd).toContain('--hidden 64,32');
    expect(cmd).toContain('--model-average 0.8');
    expect(cmd).not.toContain('--seed');
    // A seed makes another point of the same recipe: it is in the command, hence in the key.
    const seeded = utilityOptions(1000, 'mlp', 4, { mechanism: 'central', accountant: 'pld', clipping: 'fixed', rounds: 20 }, recipeOf('mlp', { seed: '7' }));
    expect(SimulateOptionsSchema.parse(seeded).seed).toBe(7);
    expect(commandOf(seeded)).toContain('--seed 7');
    // A server lr decay is part of the recipe, of the simulation and of the command.
    const decayed = utilityOptions(1000, 'mlp', 4, { mechanism: 'central', accountant: 'pld', clipping: 'fixed', rounds: 20 }, recipeOf('mlp', { 'server-lr-decay-from': '10', 'server-lr-final': '0.2' }));
    expect(SimulateOptionsSchema.parse(decayed)).toMatchObject({ serverLrDecayFrom: 10, serverLrFinal: 0.2 });
    expect(commandOf(decayed)).toContain('--server-lr-decay-from 10 --server-lr-final 0.2');
    // No options: the model's tuned recipe, and the grid's default cohort.
    expect(recipeOf('logreg', {})).toEqual(TUNED.logreg);
    expect(utilityOptions(1000, 'logreg', 4, { mechanism: 'central', accountant: 'rdp', clipping: 'fixed', rounds: 5 }).cohort).toBe(200);
  });

  it('refuses an option it does not take and a value that is no number, naming them', () => {
    expect(() => recipeOf('mlp', { cohrt: '500' })).toThrow(/unknown option\(s\) --cohrt/);
    expect(() => recipeOf('mlp', { 'server-lr': 'fast' })).toThrow(/--server-lr must be a number, got 'fast'/);
    expect(() => recipeOf('mlp', { seed: 'x' })).toThrow(/--seed must be a number, got 'x'/);
    expect(() => recipeOf('mlp', { hidden: '32,,16' })).toThrow(/--hidden takes comma-separated layer widths/);
  });

  it('draws many close curves on a zoomed axis with the legend below the plot, every point inside it', () => {
    const series = Array.from({ length: 7 }, (_, i) => ({ label: `curve ${i} <${i}>`, points: [{ epsilon: 4, accuracy: 0.86 + i / 100 }, { epsilon: 1, accuracy: 0.85 }] }));
    const svg = accuracyEpsilonSeriesSvg(series, null, 'caption', 'below', 0.8);
    const height = Number(/height="(\d+)"/.exec(svg)?.[1]);
    expect(height).toBe(360 + 16 * 7);
    for (let i = 0; i < 7; i++) expect(svg).toContain(`curve ${i} &lt;${i}>`);
    expect(svg).toContain('>80%<');
    expect(svg).not.toContain('>0%<');
    const plotBottom = height - (70 + 16 * 7);
    const plot = svg.replace(/<g class="legend">.*?<\/g>/g, '');
    for (const [, cy] of plot.matchAll(/<circle cx="[\d.]+" cy="([\d.]+)"/g)) {
      expect(Number(cy)).toBeGreaterThanOrEqual(30);
      expect(Number(cy)).toBeLessThanOrEqual(plotBottom);
    }
    // Seven curves: no value labels over the points (they would overlap).
    expect(svg).not.toMatch(/>8\d\.\d%</);
  });

  it('gives curves past the twelfth colour another marker shape, in the plot and in the legend', () => {
    const series = Array.from({ length: 14 }, (_, i) => ({ label: `curve ${i}`, points: [{ epsilon: 4, accuracy: 0.85 + i / 200 }] }));
    const svg = accuracyEpsilonSeriesSvg(series, null, 'caption', 'below', 0.8);
    const legends = [...svg.matchAll(/<g class="legend">(.*?)<\/g>/g)].map((m) => m[1] as string);
    expect(legends).toHaveLength(14);
    // Curve 12 repeats curve 0's colour: a square, not a circle, tells them apart.
    const colourOf = (entry: string): string | undefined => /fill="(#[0-9a-f]{6})"/.exec(entry)?.[1];
    expect(colourOf(legends[12] as string)).toBe(colourOf(legends[0] as string));
    expect(legends[0]).toMatch(/^<circle /);
    expect(legends[12]).toMatch(/^<rect /);
    const plot = svg.replace(/<g class="legend">.*?<\/g>/g, '');
    expect(plot.match(/<circle /g)).toHaveLength(12);
    expect(plot.match(/<rect x="[\d.]+" y="[\d.]+" width="8"/g)).toHaveLength(2);
  });
});
