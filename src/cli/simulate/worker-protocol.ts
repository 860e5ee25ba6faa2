import type { Phase } from '../../protocol/phases.js';
import type { ParticipationResult } from '../../server/participant.js';
import type { BackendKind } from '../../trainer/index.js';

/** What each simulated participant trains: the same recipe for all, on its own partition. */
export interface TrainRecipe {
  model: 'logreg' | 'mlp' | 'cnn';
  epochs: number;
  batchSize: number;
  learningRate: number;
  proxMu: number;
}

/** One participant hosted by a worker. */
export interface HostedClient {
  /** Index among all simulated clients. */
  client: number;
  /** Ed25519 seed (32 bytes). */
  secretKey: Uint8Array;
  /** Indices of its examples in the MNIST training set (none for a canary). */
  indices: Uint32Array;
  /** A canary's secret: it contributes the direction drawn from it, scaled to the clip norm, instead of training. */
  canarySecret?: Uint8Array;
}

/** `workerData` of a simulation worker. */
export interface WorkerInit {
  /**
   * `participants`: after `ready`, wait for {@link StartParticipating} and run real participants
   * against the coordinator; `baseline`: train on request and hand updates back in the clear.
   */
  mode: 'participants' | 'baseline';
  clients: HostedClient[];
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

/** Main thread → worker, once, in the participants mode. */
export interface StartParticipating {
  type: 'start';
  coordinator: string;
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
  | { type: 'done' }
  | { type: 'error'; message: string };
