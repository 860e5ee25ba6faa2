import { InvalidArgumentError, Option, type Command } from 'commander';
import { FedveilError } from '../secagg/util/errors.js';
import {
  DEFAULT_BETA,
  calibrateNoiseMultiplier,
  pldEpsilon,
  poissonGaussianEvent,
  rdpEpsilon,
  roundedL1NormBound,
  roundedL2NormBound,
  type DpEvent,
} from '../dp/index.js';

/** Parses a decimal number or a fraction `a/b` (handy for γ = 1/4096). */
function parseNumber(raw: string): number {
  const m = /^\s*([^/]+)\/([^/]+)\s*$/.exec(raw);
  const v = m ? Number(m[1]) / Number(m[2]) : Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v)) throw new InvalidArgumentError(`'${raw}' is not a finite number.`);
  return v;
}

const probability = (name: string) => (raw: string): number => {
  const v = parseNumber(raw);
  if (!(v > 0 && v <= 1)) throw new InvalidArgumentError(`${name} must be in (0, 1], got ${v}.`);
  return v;
};
const openUnit = (name: string) => (raw: string): number => {
  const v = parseNumber(raw);
  if (!(v > 0 && v < 1)) throw new InvalidArgumentError(`${name} must be in (0, 1), got ${v}.`);
  return v;
};
const positive = (name: string) => (raw: string): number => {
  const v = parseNumber(raw);
  if (!(v > 0)) throw new InvalidArgumentError(`${name} must be > 0, got ${v}.`);
  return v;
};
const positiveInt = (name: string) => (raw: string): number => {
  const v = parseNumber(raw);
  if (!(Number.isSafeInteger(v) && v >= 1)) throw new InvalidArgumentError(`${name} must be a positive integer, got ${raw}.`);
  return v;
};
const unitInterval = (name: string) => (raw: string): number => {
  const v = parseNumber(raw);
  if (!(v >= 0 && v < 1)) throw new InvalidArgumentError(`${name} must be in [0, 1), got ${v}.`);
  return v;
};

interface EpsilonOptions {
  q: number;
  sigma: number;
  steps: number;
  delta: number;
  mechanism: 'gaussian' | 'skellam';
  gamma?: number;
  dim?: number;
  clip: number;
  beta: number;
  accountant: 'rdp' | 'pld';
  json?: boolean;
}

/** The event `accountant epsilon` accounts: Poisson-sampled Gaussian or distributed Skellam, composed `steps` times. */
function epsilonEvent(cmd: Command, o: EpsilonOptions): DpEvent {
  if (o.mechanism === 'gaussian') return poissonGaussianEvent(o.q, o.sigma, o.steps);
  if (o.gamma === undefined || o.dim === undefined) {
    cmd.error("error: --mechanism skellam needs --gamma G (integer step size, e.g. 1/4096) and --dim D (encoded dimension)", { exitCode: 2, code: 'fedveil.missing-argument' });
  }
  // Integer domain: sensitivity is the conditional-rounding bound of the clip norm, noise stddev σ·C/γ.
  const l2 = roundedL2NormBound(o.clip / o.gamma, o.beta, o.dim);
  const mu = (o.sigma * o.clip / o.gamma) ** 2 / 2;
  const inner: DpEvent = { kind: 'skellam', mu, l1Sensitivity: roundedL1NormBound(l2, o.dim), l2Sensitivity: l2 };
  return { kind: 'self_composed', count: o.steps, event: { kind: 'poisson_sampled', samplingProbability: o.q, event: inner } };
}

/**
 * Registers `fedveil accountant epsilon|calibrate`:
 * `epsilon --q Q --sigma S --steps T --delta D [--mechanism gaussian|skellam] [--accountant rdp|pld] [--json]`
 * prints `{"epsilon":…,"delta":…,"order":…}` (with the PLD accountant, `"accountant":"pld"` and no
 * order); `calibrate --epsilon E --delta D --q Q --steps T [--accountant rdp|pld] [--json]` prints
 * `{"sigma":…}`. Bad or missing arguments exit 2; an event the PLD accountant cannot account exits 2
 * with its message.
 */
export function registerAccountant(program: Command): void {
  const acc = program.command('accountant').description('compute or calibrate differential-privacy epsilon (RDP or PLD accountant, dp_accounting-compatible)');
  const accountantOption = (): Option =>
    new Option('--accountant <A>', 'rdp (Rényi DP) or pld (privacy loss distributions, pessimistic, tighter)').choices(['rdp', 'pld']).default('rdp');

  acc
    .command('epsilon')
    .description('epsilon of a Poisson-sampled Gaussian (or distributed Skellam) mechanism composed over steps')
    .requiredOption('--q <Q>', 'sampling rate in (0, 1]', probability('q'))
    .requiredOption('--sigma <S>', 'noise multiplier: noise stddev / L2 sensitivity (> 0)', positive('sigma'))
    .requiredOption('--steps <T>', 'number of rounds (positive integer)', positiveInt('steps'))
    .requiredOption('--delta <D>', 'target delta in (0, 1)', openUnit('delta'))
    .addOption(new Option('--mechanism <M>', 'noise mechanism').choices(['gaussian', 'skellam']).default('gaussian'))
    .option('--gamma <G>', 'skellam: integer step size γ in update units (e.g. 1/4096)', positive('gamma'))
    .option('--dim <D>', 'skellam: encoded (padded) dimension', positiveInt('dim'))
    .option('--clip <C>', 'skellam: L2 clip norm', positive('clip'), 1)
    .option('--beta <B>', 'skellam: conditional rounding β in [0, 1)', unitInterval('beta'), DEFAULT_BETA)
    .addOption(accountantOption())
    .option('--json', 'print one JSON object')
    .action(function (this: Command, o: EpsilonOptions) {
      const event = epsilonEvent(this, o);
      if (o.accountant === 'pld') {
        let epsilon: number;
        try {
          epsilon = pldEpsilon(event, o.delta);
        } catch (e) {
          if (e instanceof FedveilError) this.error(`error: ${e.message}`, { exitCode: 2, code: e.code });
          throw e;
        }
        if (o.json === true) process.stdout.write(JSON.stringify({ epsilon: Number.isFinite(epsilon) ? epsilon : null, delta: o.delta, accountant: 'pld' }) + '\n');
        else process.stdout.write(`epsilon = ${epsilon} at delta = ${o.delta} (PLD accountant)\n`);
        return;
      }
      const { epsilon, order } = rdpEpsilon(event, o.delta);
      if (o.json === true) {
        process.stdout.write(JSON.stringify({ epsilon: Number.isFinite(epsilon) ? epsilon : null, delta: o.delta, order }) + '\n');
      } else {
        process.stdout.write(`epsilon = ${epsilon} at delta = ${o.delta} (RDP order ${order})\n`);
      }
    });

  acc
    .command('calibrate')
    .description('smallest Gaussian noise multiplier reaching a target epsilon (Poisson sampling, RDP or PLD)')
    .requiredOption('--epsilon <E>', 'target epsilon (> 0)', positive('epsilon'))
    .requiredOption('--delta <D>', 'target delta in (0, 1)', openUnit('delta'))
    .requiredOption('--q <Q>', 'sampling rate in (0, 1]', probability('q'))
    .requiredOption('--steps <T>', 'number of rounds (positive integer)', positiveInt('steps'))
    .addOption(accountantOption())
    .option('--json', 'print one JSON object')
    .action((o: { epsilon: number; delta: number; q: number; steps: number; accountant: 'rdp' | 'pld'; json?: boolean }) => {
      const sigma = calibrateNoiseMultiplier({ epsilon: o.epsilon, delta: o.delta, samplingRate: o.q, steps: o.steps, accountant: o.accountant });
      if (o.json === true) process.stdout.write(JSON.stringify({ sigma }) + '\n');
      else process.stdout.write(`sigma = ${sigma} reaches epsilon ${o.epsilon} at delta = ${o.delta} (q = ${o.q}, ${o.steps} steps)\n`);
    });
}
