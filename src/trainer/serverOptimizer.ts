/**
 * Server-side optimisers that turn the decoded mean client update into the next global model,
 * on flat Float32Arrays: FedAvg (server learning rate), FedAvgM (server momentum, Hsu et al.
 * 2019), and FedAdagrad, FedAdam, FedYogi (Reddi et al., "Adaptive Federated Optimization",
 * ICLR 2021, Algorithm 2: Δ is the mean of (local − global), no bias correction, v₋₁ = τ²).
 * Every input is checked before any state changes, so a bad aggregate never corrupts the model.
 */
import { TrainerError, ensure, firstNonFinite } from './errors.js';

/**
 * How the server learning rate changes with the rounds applied: constant, or a cosine decay from
 * `lr` at round `from` to `final`·`lr` at round `to`, held there afterwards. A decay late in a
 * private federation shortens the steps once the model is near its optimum, where each round's
 * noise moves it more than the signal does; it changes nothing the accountant sees (the schedule
 * is post-processing of released aggregates).
 */
export type ServerLrSchedule = { kind: 'constant' } | { kind: 'cosine'; from: number; to: number; final: number };

/** Which server optimiser, with its hyper-parameters (`schedule` defaults to constant). */
export type ServerOptimizerConfig =
  | { kind: 'fedavg'; lr?: number; schedule?: ServerLrSchedule }
  | { kind: 'fedavgm'; lr?: number; momentum?: number; schedule?: ServerLrSchedule }
  | { kind: 'fedadagrad'; lr?: number; beta1?: number; tau?: number; schedule?: ServerLrSchedule }
  | { kind: 'fedadam'; lr?: number; beta1?: number; beta2?: number; tau?: number; schedule?: ServerLrSchedule }
  | { kind: 'fedyogi'; lr?: number; beta1?: number; beta2?: number; tau?: number; schedule?: ServerLrSchedule };

/** The optimiser's state, for persistence across a coordinator restart. */
export interface ServerOptimizerState {
  kind: ServerOptimizerConfig['kind'];
  /** Rounds applied so far. */
  step: number;
  /** First moment (momentum buffer for FedAvgM), or null before the first round / for FedAvg. */
  m: Float32Array | null;
  /** Second moment (adaptive methods), or null. */
  v: Float32Array | null;
}

/** A stateful server optimiser. */
export interface ServerOptimizer {
  /** The configuration with defaults filled in. */
  readonly config: Required<ServerOptimizerConfig>;
  /**
   * Returns the next global weights from the current ones and the mean update Δ (mean of local
   * minus global), in a new array the optimiser keeps no reference to; neither argument is
   * modified. Throws `trainer/update-length-mismatch` or `trainer/non-finite-update` (before
   * touching any state), and `trainer/non-finite-weights` if the result would not be finite.
   */
  apply(globalWeights: Float32Array, meanUpdate: Float32Array): Float32Array;
  /** A copy of the state. */
  exportState(): ServerOptimizerState;
}

const CONSTANT: ServerLrSchedule = { kind: 'constant' };

const DEFAULTS = {
  fedavg: { kind: 'fedavg', lr: 1, schedule: CONSTANT },
  fedavgm: { kind: 'fedavgm', lr: 1, momentum: 0.9, schedule: CONSTANT },
  fedadagrad: { kind: 'fedadagrad', lr: 0.1, beta1: 0, tau: 1e-3, schedule: CONSTANT },
  fedadam: { kind: 'fedadam', lr: 0.01, beta1: 0.9, beta2: 0.99, tau: 1e-3, schedule: CONSTANT },
  fedyogi: { kind: 'fedyogi', lr: 0.01, beta1: 0.9, beta2: 0.99, tau: 1e-3, schedule: CONSTANT },
} as const;

function checkSchedule(s: ServerLrSchedule): void {
  if (s.kind === 'constant') return;
  ensure(s.kind === 'cosine', 'trainer/bad-option', `unknown server lr schedule "${String((s as { kind: unknown }).kind)}"; use constant or cosine`);
  ensure(Number.isInteger(s.from) && s.from >= 0, 'trainer/bad-option', `the lr decay must start at a round ≥ 0, got ${s.from}`);
  ensure(Number.isInteger(s.to) && s.to > s.from, 'trainer/bad-option', `the lr decay must end at a round after its start (${s.from}), got ${s.to}`);
  ensure(Number.isFinite(s.final) && s.final >= 0 && s.final <= 1, 'trainer/bad-option', `the final lr factor must be in [0, 1], got ${s.final}`);
}

/** The learning rate of the step that follows `step` applied rounds, under `schedule`. */
export function scheduledLr(lr: number, schedule: ServerLrSchedule, step: number): number {
  if (schedule.kind === 'constant' || step <= schedule.from) return lr;
  if (step >= schedule.to) return lr * schedule.final;
  const progress = (step - schedule.from) / (schedule.to - schedule.from);
  return lr * (schedule.final + ((1 - schedule.final) * (1 + Math.cos(Math.PI * progress))) / 2);
}

function fill(cfg: ServerOptimizerConfig): Required<ServerOptimizerConfig> {
  const base = DEFAULTS[cfg.kind];
  if (base === undefined) {
    throw new TrainerError('trainer/bad-option', `unknown server optimizer "${String((cfg as { kind: unknown }).kind)}"; use ${Object.keys(DEFAULTS).join(', ')}`);
  }
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(cfg)) if (v !== undefined) out[k] = v;
  const full = out as Required<ServerOptimizerConfig>;
  ensure(typeof full.lr === 'number' && Number.isFinite(full.lr) && full.lr > 0, 'trainer/bad-option', `server lr must be a positive number, got ${full.lr}`);
  const inUnit = (name: string, v: number, allowZero: boolean): void =>
    ensure(Number.isFinite(v) && (allowZero ? v >= 0 : v > 0) && v < 1, 'trainer/bad-option', `${name} must be in ${allowZero ? '[0' : '(0'}, 1), got ${v}`);
  if (full.kind === 'fedavgm') inUnit('momentum', full.momentum, true);
  if (full.kind === 'fedadagrad' || full.kind === 'fedadam' || full.kind === 'fedyogi') {
    inUnit('beta1', full.beta1, true);
    ensure(Number.isFinite(full.tau) && full.tau > 0, 'trainer/bad-option', `tau must be a positive number, got ${full.tau}`);
  }
  if (full.kind === 'fedadam' || full.kind === 'fedyogi') inUnit('beta2', full.beta2, false);
  checkSchedule(full.schedule);
  return full;
}

/**
 * Creates a server optimiser from `cfg` (defaults: FedAvg lr 1; FedAvgM lr 1, momentum 0.9;
 * FedAdagrad lr 0.1, β₁ 0, τ 1e-3; FedAdam/FedYogi lr 0.01, β₁ 0.9, β₂ 0.99, τ 1e-3; a constant
 * lr), optionally resuming from an exported state (whose step count places it in the schedule).
 */
export function createServerOptimizer(cfg: ServerOptimizerConfig, state?: ServerOptimizerState): ServerOptimizer {
  const config = fill(cfg);
  let step = 0;
  let m: Float32Array | null = null;
  let v: Float32Array | null = null;
  if (state !== undefined) {
    ensure(state.kind === config.kind, 'trainer/bad-option', `state is for "${state.kind}" but the optimizer is "${config.kind}"`);
    ensure(Number.isInteger(state.step) && state.step >= 0, 'trainer/bad-option', `state step must be a non-negative integer, got ${state.step}`);
    ensure(state.m === null || firstNonFinite(state.m) < 0, 'trainer/non-finite-weights', 'optimizer state m is not finite');
    ensure(state.v === null || (firstNonFinite(state.v) < 0 && state.v.every((x) => x >= 0)), 'trainer/non-finite-weights', 'optimizer state v must be finite and non-negative');
    step = state.step;
    m = state.m && state.m.slice();
    v = state.v && state.v.slice();
  }

  const apply = (w: Float32Array, delta: Float32Array): Float32Array => {
    ensure(w instanceof Float32Array && delta instanceof Float32Array, 'trainer/weights-type', 'weights and update must be Float32Arrays');
    if (w.length !== delta.length) {
      throw new TrainerError('trainer/update-length-mismatch', `mean update has ${delta.length} values but the global model has ${w.length}`);
    }
    for (const [buf, name] of [[m, 'm'], [v, 'v']] as const) {
      ensure(buf === null || buf.length === w.length, 'trainer/update-length-mismatch', () => `optimizer state ${name} has ${buf!.length} values but the model has ${w.length}`);
    }
    const badW = firstNonFinite(w);
    ensure(badW < 0, 'trainer/non-finite-weights', () => `global weights hold ${w[badW]} at index ${badW}`);
    const badD = firstNonFinite(delta);
    ensure(badD < 0, 'trainer/non-finite-update', () => `mean update holds ${delta[badD]} at index ${badD}; refusing to apply it`);

    const d = w.length;
    const out = new Float32Array(d);
    // Compute into fresh buffers and commit only when the result is finite.
    const nm = config.kind === 'fedavg' ? null : new Float32Array(d);
    const nv = config.kind === 'fedavg' || config.kind === 'fedavgm' ? null : new Float32Array(d);
    const lr = scheduledLr(config.lr, config.schedule, step);
    switch (config.kind) {
      case 'fedavg':
        for (let i = 0; i < d; i++) out[i] = w[i]! + lr * delta[i]!;
        break;
      case 'fedavgm': {
        const beta = config.momentum;
        for (let i = 0; i < d; i++) {
          const mi = beta * (m ? m[i]! : 0) + delta[i]!;
          nm![i] = mi;
          out[i] = w[i]! + lr * mi;
        }
        break;
      }
      default: {
        const { beta1, tau } = config;
        const beta2 = config.kind === 'fedadagrad' ? 0 : config.beta2;
        const v0 = tau * tau;
        for (let i = 0; i < d; i++) {
          const g = delta[i]!;
          const g2 = g * g;
          const mi = beta1 * (m ? m[i]! : 0) + (1 - beta1) * g;
          const vp = v ? v[i]! : v0;
          let vi: number;
          if (config.kind === 'fedadagrad') vi = vp + g2;
          else if (config.kind === 'fedadam') vi = beta2 * vp + (1 - beta2) * g2;
          else vi = vp - (1 - beta2) * g2 * Math.sign(vp - g2);
          nm![i] = mi;
          nv![i] = vi;
          out[i] = w[i]! + (lr * mi) / (Math.sqrt(vi) + tau);
        }
      }
    }
    const badOut = firstNonFinite(out);
    ensure(badOut < 0, 'trainer/non-finite-weights', () => `applying the update would make weight ${badOut} equal ${out[badOut]}; refusing`);
    m = nm;
    v = nv;
    step++;
    return out;
  };

  return {
    config,
    apply,
    exportState: () => ({ kind: config.kind, step, m: m && m.slice(), v: v && v.slice() }),
  };
}
