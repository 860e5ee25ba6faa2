import { z } from 'zod';
import { ClippingSectionSchema } from './adaptive-clip.js';
import { EvaluationSectionSchema } from './federated-evaluation.js';
import { DpConfigSchema } from '../dp/index.js';
import { PHASES, type Phase } from '../protocol/phases.js';
import { StalenessFunctionSchema } from './async-staleness.js';
import { DataSchemaSchema } from './data-schema.js';
import { CohortDrawSchema } from './ledger-entry.js';

/**
 * zod schemas of the coordinator's JSON answers. The participant client validates every response
 * against them before using it; anything else is treated as a protocol failure, never trusted.
 */

/** Media type of masked-input bodies and of the global model. */
export const OCTET_STREAM = 'application/octet-stream';

/** Header carrying a joined participant's session token (32 hex) on every request after its join. */
export const SESSION_HEADER = 'x-fedveil-session';

const PhaseSchema = z.enum(PHASES as [Phase, ...Phase[]]);
const hex32 = z.string().regex(/^[0-9a-f]{64}$/);

/** `GET /v1/round`. */
export const CoordinatorStateSchema = z
  .object({
    federationId: z.string().min(1),
    status: z.enum(['starting', 'running', 'finished', 'stopped']),
    stateVersion: z.number().int().min(0),
    round: z.number().int().min(0).nullable(),
    phase: z.union([PhaseSchema, z.literal('finalizing')]).nullable(),
    /** Wire JSON of the protocol RoundConfig; decoded and checked by the protocol layer. */
    roundConfig: z.unknown(),
    /** The running round's cohort draw (what its binding covers), null between rounds. */
    cohortDraw: CohortDrawSchema.nullable(),
    /** The ledger head the running round extends, null between rounds. */
    ledgerHead: z.object({ seq: z.number().int().min(0), hash: hex32 }).strict().nullable(),
    /** The clip norm C_t the running round clips to (adaptive clipping; its binding covers it), else null. */
    clipNorm: z.number().gt(0).finite().nullable().default(null),
    modelVersion: z.number().int().min(0),
    roundsCompleted: z.number().int().min(0),
    roundsTarget: z.number().int().min(1),
    lastRound: z
      .object({ round: z.number().int().min(0), status: z.enum(['completed', 'aborted']), code: z.string().optional() })
      .strict()
      .nullable(),
    deadlineInMs: z.number().min(0).nullable(),
  })
  .strict();

/** `GET /v1/federation`. */
export const FederationInfoSchema = z
  .object({
    federationId: z.string().min(1),
    dim: z.number().int().min(1),
    model: z.object({ name: z.string(), options: z.record(z.string(), z.unknown()) }).strict(),
    mode: z.enum(['semi-honest', 'malicious']),
    colluders: z.number().int().min(0),
    rounds: z.number().int().min(1),
    phases: z.array(PhaseSchema),
    dp: DpConfigSchema,
    delta: z.number().gt(0).lt(1),
    samplingRate: z.number().gt(0).max(1),
    coordinatorPublicKey: hex32,
    longPollMs: z.number().int().min(1),
    /** The data schema every participant's data must follow; null when the federation has none (MNIST). */
    data: DataSchemaSchema.nullable(),
    /** Federated evaluation settings; null when participants send no evaluation counts. */
    evaluation: EvaluationSectionSchema.nullable().default(null),
    /** Asynchronous federations: the staleness rules every group's weights follow; null for synchronous rounds. */
    async: z.object({ maxStaleness: z.number().int().min(0), staleness: StalenessFunctionSchema, formationTimeoutMs: z.number().int().min(1) }).strict().nullable().default(null),
    /**
     * With federated standardisation: the per-feature mean and std the statistics round released
     * (its ledger entry records them; participants apply only what they recompute from it); null before.
     */
    standardization: z.object({ mean: z.array(z.number().finite()), std: z.array(z.number().finite()) }).strict().nullable().default(null),
    /** Adaptive clipping settings; null when every round clips at `dp.clipNorm`. */
    clipping: ClippingSectionSchema.nullable().default(null),
    /** Noise-probe coordinates every participant appends with input 0 (0: none). */
    noiseProbe: z.number().int().min(0).default(0),
  })
  .strict();

/** Round and phase a join signature binds: no protocol phase is called 'join', so a join can never be replayed as a submission. */
export const JOIN_TARGET = { round: 0, phase: 'join' } as const;

/** Body of `POST /v1/join` (signed with {@link JOIN_TARGET}). */
export const JoinRequestSchema = z
  .object({
    /** 16 random bytes, hex: the session this process claims for its identity. */
    session: z.string().regex(/^[0-9a-f]{32}$/),
    /** The sender's clock, ms since the epoch: a join is accepted only within minutes of it. */
    time: z.number().int().min(0),
  })
  .strict();

/** Round and phase a readiness announcement's signature binds (no protocol phase is called 'ready'). */
export const READY_TARGET = { round: 0, phase: 'ready' } as const;

/** Body of `POST /v1/ready` (signed with {@link READY_TARGET}): an asynchronous participant's update is trained. */
export const ReadyRequestSchema = z
  .object({
    /** The published model version the update was trained on. */
    modelVersion: z.number().int().min(0),
    /** The sender's clock, ms since the epoch: accepted only within minutes of it. */
    time: z.number().int().min(0),
  })
  .strict();

/** Answer to an accepted readiness announcement. */
export const ReadyAckSchema = z.object({ ready: z.literal(true), modelVersion: z.number().int().min(0), queued: z.number().int().min(1) }).strict();

/** Answer to an accepted join. */
export const JoinAckSchema = z
  .object({
    joined: z.literal(true),
    session: z.string(),
    /** A session not heard from for this long is gone; another process may then take the identity. */
    leaseMs: z.number().int().min(1),
    /** Live joined participants, and how many the coordinator waits for before its first round. */
    joinedCount: z.number().int().min(0),
    minJoined: z.number().int().min(1),
    status: z.enum(['starting', 'running', 'finished', 'stopped']),
  })
  .strict();

/** Answer to an accepted submission. */
export const SubmissionAckSchema = z.object({ accepted: z.literal(true), round: z.number().int().min(0), phase: PhaseSchema }).strict();

/** Body of every 4xx/5xx answer. */
export const ErrorBodySchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), field: z.string().optional() }).strict() })
  .strict();

/** Validated `GET /v1/round` answer. */
export type CoordinatorStateWire = z.infer<typeof CoordinatorStateSchema>;
/** Validated `POST /v1/ready` answer. */
export type ReadyAck = z.infer<typeof ReadyAckSchema>;
/** Validated `POST /v1/join` answer. */
export type JoinAck = z.infer<typeof JoinAckSchema>;
/** Validated `GET /v1/federation` answer. */
export type FederationInfo = z.infer<typeof FederationInfoSchema>;
