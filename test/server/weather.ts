/**
 * A small weather-like tabular dataset for the CSV federation tests: daily precipitation,
 * temperatures and wind, and one of five classes (drizzle, fog, rain, snow, sun) with a rare
 * class (snow), like the public Seattle weather data a first operator tried. Deterministic from a label.
 */
import { randomUnit, seededRandom, type RandomSource } from '../../src/secagg/index.js';

export const WEATHER_CLASSES = ['drizzle', 'fog', 'rain', 'snow', 'sun'] as const;
export const WEATHER_FEATURES = ['precipitation', 'temp_max', 'temp_min', 'wind'] as const;
export type WeatherClass = (typeof WEATHER_CLASSES)[number];

/** Mean feature values of each class; the spread is 0.3 of the feature's scale. */
const CENTRES: Record<WeatherClass, [number, number, number, number]> = {
  drizzle: [1.5, 14, 8, 2.5],
  fog: [0, 11, 5, 1.2],
  rain: [9, 12, 6, 5.5],
  snow: [6, 1, -4, 4.5],
  sun: [0, 24, 12, 3],
};
const SCALES = [3, 7, 5, 1.5];
/** Class frequencies (sun most common, snow rare). */
const FREQUENCIES: [WeatherClass, number][] = [
  ['sun', 0.4],
  ['rain', 0.3],
  ['fog', 0.12],
  ['drizzle', 0.1],
  ['snow', 0.08],
];

/** The standardisation an operator would fix for this data (rounded feature means and spreads). */
export const WEATHER_STANDARDIZE = { mean: [3, 15, 8, 3.5], std: [4, 8, 6, 1.7] };

function gaussian(rng: RandomSource): number {
  const u = Math.max(randomUnit(rng), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * randomUnit(rng));
}

function draw(rng: RandomSource, without: readonly WeatherClass[]): WeatherClass {
  const pool = FREQUENCIES.filter(([c]) => !without.includes(c));
  const total = pool.reduce((a, [, p]) => a + p, 0);
  let u = randomUnit(rng) * total;
  for (const [c, p] of pool) {
    u -= p;
    if (u < 0) return c;
  }
  return pool.at(-1)![0];
}

/**
 * CSV text of `rows` days (header `date,precipitation,temp_max,temp_min,wind,weather`, the date
 * a column no schema uses), none of the classes in `without`; `labelled: false` leaves out the
 * weather column.
 */
export function weatherCsv(label: string, rows: number, opts: { without?: readonly WeatherClass[]; labelled?: boolean } = {}): string {
  const rng = seededRandom(`weather/${label}`);
  const labelled = opts.labelled ?? true;
  const lines = [`date,${WEATHER_FEATURES.join(',')}${labelled ? ',weather' : ''}`];
  for (let i = 0; i < rows; i++) {
    const c = draw(rng, opts.without ?? []);
    const x = CENTRES[c].map((m, j) => m + 0.3 * SCALES[j]! * gaussian(rng));
    x[0] = Math.max(0, x[0]!);
    const day = new Date(Date.UTC(2024, 0, 1 + i)).toISOString().slice(0, 10);
    lines.push(`${day},${x.map((v) => v.toFixed(1)).join(',')}${labelled ? `,${c}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
