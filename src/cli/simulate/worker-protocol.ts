import type { Phase } from '../../protocol/phases.js';
import type { ParticipationResult } from '../../server/participant.js';
import type { BackendKind, CnnDownsample, Dataset } from '../../trainer/index.js';

/** What each simulated participant trains: the same recipe for all, on its own partition. */
export interface TrainRecipe {
  model: 'logreg' | 'mlp' | 'cnn';
  /** Hidden layer widths of an MLP or CNN (default the trainer's). */
  hidden?: number[];
  /** A CNN's convolution channels and downsampling (default McMahan et al.'s). */
  filters?: number[];
  downsample?: CnnDownsample;
  epochs: number;
  batchSize: number;
  learningRate: number;
  proxMu: number;
}

/**
 * Every participant's data, by index, as two flat arrays: participant i holds the training
 * examples `indices[starts[i] .. starts[i + 1])` (at most `examples` of them when given). Two
 * arrays whatever the population, rather than an object per participant.
 */
export interface DataShards {
  starts: Uint32Array;
  indices: Uint32Array;
  examples?: number;
}

/** `workerData` of a simulation worker. */
export interface WorkerInit {
  /**
   * `participants`: take part in the rounds the main thread assigns ({@link RoundAssignment}) as
   * real participants of the coordinator; `baseline`: train on request and hand updates back in
   * the clear.
   */
  mode: 'participants' | 'baseline';
  /** The training set the shards index, in shared memory: one copy for every worker. */
  train: Dataset;
  shards: DataShards;
  recipe: TrainRecipe;
  seed: number;
  dropout: number;
  /** Phases of a round, for drawing where a dropout happens. */
  phases: Phase[];
  backend?: BackendKind;
  /** Clip norm C: the length of a canary's update. */
  clip: number;
  /** Test-only under-noising factor (FEDVEIL_TEST_NOISE_SCALE); see ParticipantOptions.noiseScale. */
  noiseScale?: number;
}

/**
 * Main thread → worker in the participants mode: these participants were drawn into `round`'s
 * cohort. The worker creates them now (identity from the seed, data from the shards) and drops
 * them when their round ends (one that joins too late gives up once a later round runs): nothing
 * of a participant outlives its round.
 */
export interface RoundAssignment {
  type: 'round';
  round: number;
  coordinator: string;
  /** Population indices; those past the shards' clients are the audit's canaries. */
  clients: number[];
}

/**
 * Main thread → worker, asynchronous federations: replay one training of participant `client`
 * (src/cli/simulate/async-schedule.ts): train on model version `trainOn`, announce it ready, take
 * part in the group that takes it, and stop. `slot` numbers the replays; the worker answers
 * `round-done` with `round: slot` when the participant has stopped.
 */
export interface AsyncMemberAssignment {
  type: 'async-member';
  slot: number;
  coordinator: string;
  client: number;
  trainOn: number;
}

/** Main thread → worker in the baseline mode: train these clients on these weights. */
export interface BaselineTrainRequest {
  type: 'train';
  round: number;
  weights: Float32Array;
  clients: number[];
}

/** Worker → main thread. */
export type WorkerEvent =
  | { type: 'ready'; backend: string; reason: string; trainMs: number }
  | { type: 'participation'; client: number; result: ParticipationResult }
  | { type: 'trained'; round: number; client: number; update: Float32Array; examples: number; loss: number }
  /** Every participant of a {@link RoundAssignment} has finished (or given up). */
  | { type: 'round-done'; round: number }
  | { type: 'error'; message: string };
