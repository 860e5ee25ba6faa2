import { readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { phasesOf, type Phase } from '../protocol/phases.js';
import { FedveilError } from '../secagg/util/errors.js';
import { StalenessFunctionSchema } from './async-staleness.js';
import { DataSchemaSchema } from './data-schema.js';
import { ClippingSectionSchema, clippingProblems } from './adaptive-clip.js';
import { EvaluationSectionSchema, roundDim } from './federated-evaluation.js';
import { statisticsCoordinates, statisticsSpec } from './federated-statistics.js';
import { resolveFederationModel } from './federation-model.js';

/** One protocol phase name (the protocol's own), as used in URLs, deadlines and the ledger. */
export type PhaseName = Phase;

const hexKey = z
  .string()
  .regex(/^[0-9a-f]{64}$/, 'must be a 32-byte Ed25519 public key as 64 lower-case hex characters');

const positiveMs = z.number().int().min(1).max(24 * 3_600_000);

const DeadlinesSchema = z
  .object({
    'advertise-keys': positiveMs.default(30_000),
    'share-keys': positiveMs.default(30_000),
    'masked-input': positiveMs.default(120_000),
    'consistency-check': positiveMs.default(30_000),
    unmask: positiveMs.default(30_000),
  })
  .strict();

const CohortSchema = z.union([
  z.object({ size: z.number().int().min(2) }).strict(),
  z.object({ samplingRate: z.number().gt(0).max(1) }).strict(),
]);

const NeighboursSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('complete') }).strict(),
  z
    .object({
      mode: z.literal('secagg+'),
      dropoutFraction: z.number().min(0).lt(1),
      corruptionFraction: z.number().min(0).lt(1),
    })
    .strict(),
]);

const DpSectionSchema = z
  .object({
    mechanism: z.enum(['skellam', 'ddg', 'central', 'none']),
    clipNorm: z.number().gt(0).finite(),
    bits: z.number().int().min(1).max(32),
    scale: z.number().gt(0).finite(),
    rotation: z.boolean().default(true),
    beta: z.number().min(0).finite().optional(),
    /**
     * Fewest contributors whose noise shares add up to the full noise: each participant adds
     * 1/minContributors of the noise variance, and a round with fewer contributors is not
     * released. Default: `threshold`. Set it near the number of participants expected to
     * survive a round, so that the noise (and the ε actually spent) is what was calibrated for.
     */
    minContributors: z.number().int().min(2).optional(),
    /** Central noise multiplier z. Give this or `targetEpsilon`, not both ('none' needs neither). */
    noiseMultiplier: z.number().min(0).finite().optional(),
    /** Calibrate z so the whole run (all rounds) spends at most this ε at `delta`. */
    targetEpsilon: z.number().gt(0).finite().optional(),
    /**
     * The accountant `targetEpsilon` is calibrated with: 'rdp' (default) or 'pld' (privacy loss
     * distributions: tighter, so less noise for the same ε; central noise only, the PLD accountant
     * does not account distributed noise over several coordinates). Absent means 'rdp'. The
     * report states ε from both either way.
     */
    accountant: z.enum(['rdp', 'pld']).optional(),
    delta: z.number().gt(0).lt(1).default(1e-5),
  })
  .strict()
  .superRefine((dp, ctx) => {
    if (dp.accountant !== undefined && dp.targetEpsilon === undefined) {
      ctx.addIssue({ code: 'custom', path: ['accountant'], message: 'accountant picks how targetEpsilon is calibrated; without targetEpsilon remove it' });
    }
    if (dp.accountant === 'pld' && dp.mechanism !== 'central') {
      ctx.addIssue({ code: 'custom', path: ['accountant'], message: `the PLD accountant calibrates central noise only; '${dp.mechanism}' noise spreads over every coordinate of the update (use accountant 'rdp')` });
    }
    if (dp.mechanism === 'none') {
      if (dp.targetEpsilon !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['targetEpsilon'], message: "mechanism 'none' gives no ε guarantee; remove targetEpsilon" });
      }
      return;
    }
    const given = Number(dp.noiseMultiplier !== undefined) + Number(dp.targetEpsilon !== undefined);
    if (given !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['noiseMultiplier'],
        message: `mechanism '${dp.mechanism}' needs exactly one of noiseMultiplier or targetEpsilon`,
      });
    }
  });

const ModelSchema = z
  .object({
    /** Model architecture name understood by the trainer: 'logreg', 'mlp', 'cnn' or 'json'. */
    name: z.string().min(1).max(64),
    /**
     * Architecture options (see src/server/federation-model.ts): logreg {inputSize, numClasses},
     * mlp {inputSize, hidden, numClasses}, cnn {inputShape, numClasses}, json {topology}. The input
     * size and class count are derived from `data` when it is given.
     */
    options: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

const path = z.string().min(1);

/**
 * An asynchronous (FedBuff-style) federation: instead of drawing cohorts, the coordinator forms
 * each round's group from the first `cohort.size` participants that announce they are ready with
 * an update trained on a published model version (src/server/async-groups.ts).
 */
const AsyncSectionSchema = z
  .object({
    /** Most model versions an update may lag the version it is applied to; staler ones are refused. */
    maxStaleness: z.number().int().min(0).max(1_000_000).default(10),
    /** How an update's weight decays with its staleness (default FedBuff's (1 + τ)^(−0.5)). */
    staleness: StalenessFunctionSchema.default({ function: 'polynomial', exponent: 0.5 }),
    /** A group that has not gathered `cohort.size` ready members this long after its first is dissolved (they stay ready). */
    formationTimeoutMs: positiveMs.default(60_000),
  })
  .strict();

/** The config's fields and rules, before the model and `dim` are resolved. */
const FederationConfigFields = z
  .object({
    federationId: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[A-Za-z0-9._:-]+$/, 'may contain only letters, digits and . _ : -'),
    participants: z.array(hexKey).min(2, 'needs at least 2 allowed participants'),
    rounds: z.number().int().min(1).max(1_000_000),
    cohort: CohortSchema,
    threshold: z.number().int().min(2),
    neighbours: NeighboursSchema.default({ mode: 'complete' }),
    mode: z.enum(['semi-honest', 'malicious']).default('semi-honest'),
    /**
     * c: how many participants may collude with the coordinator (default 0). Secure aggregation
     * holds against a coordinator helped by up to c participants: the threshold must exceed c and,
     * in malicious mode, every round's quorum q satisfies 2q > |cohort| + c (raised automatically).
     */
    colluders: z.number().int().min(0).default(0),
    dp: DpSectionSchema,
    /** The data schema every participant's CSV must follow (absent for MNIST federations). */
    data: DataSchemaSchema.optional(),
    model: ModelSchema,
    /**
     * Federated evaluation: each contributor appends counts measured on its held-out rows to its
     * update, clipped, noised and accounted with it (see src/server/federated-evaluation.ts).
     */
    evaluation: EvaluationSectionSchema.optional(),
    /**
     * Adaptive clipping: the clip norm follows a quantile of the update norms, from a bit each
     * contributor appends to its update (see src/server/adaptive-clip.ts). Absent: fixed `dp.clipNorm`.
     */
    clipping: ClippingSectionSchema.optional(),
    /** Length of the model vector: derived from `model` (and `data`); give it only for a model that is not built in. */
    dim: z.number().int().min(1).max(1 << 28).optional(),
    deadlines: DeadlinesSchema.default({
      'advertise-keys': 30_000,
      'share-keys': 30_000,
      'masked-input': 120_000,
      'consistency-check': 30_000,
      unmask: 30_000,
    }),
    /**
     * Where the coordinator keeps its state: `path`, a SQLite file (or ':memory:'; a relative path
     * is relative to the config file), or `postgres`, a PostgreSQL URL (optionally with a `schema`),
     * for a leader and standbys on one database.
     */
    storage: z
      .object({
        path: path.optional(),
        postgres: z
          .string()
          .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
          .optional(),
        schema: z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'letters, digits and _ only')
          .optional(),
      })
      .strict()
      .refine((s) => (s.path === undefined) !== (s.postgres === undefined), 'give exactly one of storage.path (SQLite) and storage.postgres')
      .refine((s) => s.schema === undefined || s.postgres !== undefined, 'storage.schema applies only to storage.postgres'),
    /** Coordinator Ed25519 identity file; created (mode 0600) beside the storage when absent. */
    identity: path.optional(),
    listen: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(0).max(65_535).default(0),
        /** Serve HTTPS with this PEM certificate (chain) and private key. */
        tls: z.object({ cert: path, key: path }).strict().optional(),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 0 }),
    /**
     * Participants that must have joined (`POST /v1/join`) before the coordinator starts its first
     * round. Default: the threshold, or dp.minContributors when larger: fewer could not release a round.
     */
    minJoined: z.number().int().min(1).optional(),
    /**
     * SHA-256 commitment (64 hex) to the secrets of the canary participants an auditor runs
     * (src/server/canary-audit.ts): recorded in the genesis before round 0, so the directions the
     * audit reveals afterwards cannot have been chosen by the coordinator. Absent: no audit.
     */
    auditCommitment: z.string().regex(/^[0-9a-f]{64}$/, 'must be 32 bytes as 64 lower-case hex characters').optional(),
    /**
     * Noise probe: P coordinates every participant appends, after everything else, with input
     * exactly 0, so that a round's released values there are its aggregate noise alone; the ledger
     * records them and verify-report tests their variance against the mechanism's claim
     * (src/server/noise-probe.ts). Absent or 0: no probe.
     */
    noiseProbe: z.number().int().min(0).max(65_536).optional(),
    /** Seed of the cohort draw. Public seeds make the draw predictable; omit it in production. */
    seed: z.union([z.string().min(1).max(256), z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)]).optional(),
    /** Largest request body accepted, in bytes (masked vectors included). */
    maxBodyBytes: z.number().int().min(1024).max(1 << 30).optional(),
    /** Longest a long-poll request is held before it answers with the unchanged state. */
    longPollMs: z.number().int().min(1).max(600_000).default(25_000),
    /** Serve the read-only dashboard at `/` (its live feed under `/v1/dashboard`). */
    dashboard: z.boolean().default(true),
    /** Run asynchronously: groups of `cohort.size` ready participants instead of drawn cohorts. */
    async: AsyncSectionSchema.optional(),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.participants.forEach((k, i) => {
      if (seen.has(k)) ctx.addIssue({ code: 'custom', path: ['participants', i], message: `duplicate participant key ${k.slice(0, 16)}…` });
      seen.add(k);
    });
    if (cfg.threshold <= cfg.colluders) {
      ctx.addIssue({
        code: 'custom',
        path: ['colluders'],
        message: `threshold ${cfg.threshold} must exceed colluders ${cfg.colluders} (t > c): c colluders' Shamir shares must reveal nothing`,
      });
    }
    if (cfg.threshold > cfg.participants.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['threshold'],
        message: `threshold ${cfg.threshold} exceeds the ${cfg.participants.length} allowed participants`,
      });
    }
    const minContributors = cfg.dp.minContributors;
    if (minContributors !== undefined && minContributors > ('size' in cfg.cohort ? cfg.cohort.size : cfg.participants.length)) {
      ctx.addIssue({
        code: 'custom',
        path: ['dp', 'minContributors'],
        message: `minContributors ${minContributors} exceeds the largest possible cohort`,
      });
    }
    if (cfg.storage.postgres !== undefined && cfg.identity === undefined) {
      // A standby must sign with the leader's key: the store refuses ledgers written by another one.
      ctx.addIssue({ code: 'custom', path: ['identity'], message: 'storage.postgres needs an identity file every coordinator of the federation shares' });
    }
    for (const p of clippingProblems(cfg)) ctx.addIssue({ code: 'custom', path: p.path, message: p.message });
    if (cfg.clipping?.adaptive !== undefined && statisticsSpec(cfg) !== null) {
      // The statistics round's vector is no update: it has no norm for the clipping bit to report.
      ctx.addIssue({ code: 'custom', path: ['clipping'], message: 'adaptive clipping is not available together with federated standardisation: give the mean and std, or a fixed clip norm' });
    }
    if (cfg.minJoined !== undefined && cfg.minJoined > cfg.participants.length) {
      ctx.addIssue({ code: 'custom', path: ['minJoined'], message: `minJoined ${cfg.minJoined} exceeds the ${cfg.participants.length} allowed participants` });
    }
    if (cfg.async !== undefined) {
      if (!('size' in cfg.cohort)) {
        ctx.addIssue({ code: 'custom', path: ['cohort'], message: 'an asynchronous federation forms groups of cohort.size ready participants: give cohort.size, not a sampling rate' });
      }
      if (cfg.evaluation !== undefined) {
        // Evaluation counts ride in the update vector and would be down-weighted with it.
        ctx.addIssue({ code: 'custom', path: ['evaluation'], message: 'federated evaluation is not available in asynchronous federations' });
      }
      if (cfg.clipping?.adaptive !== undefined) {
        // A group's updates were clipped when they were trained, before the group's clip norm existed.
        ctx.addIssue({ code: 'custom', path: ['clipping'], message: 'adaptive clipping is not available in asynchronous federations' });
      }
      if (statisticsSpec(cfg) !== null) {
        // Asynchronous participants train before any round, so none could wait for a statistics round.
        ctx.addIssue({ code: 'custom', path: ['data', 'standardize'], message: 'federated standardisation is not available in asynchronous federations: give the mean and std, or train synchronously' });
      }
    }
    const model = resolveFederationModel(cfg.model, cfg.data, cfg.dim);
    if ('issues' in model) for (const i of model.issues) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
    if ('size' in cfg.cohort) {
      if (cfg.cohort.size > cfg.participants.length) {
        ctx.addIssue({
          code: 'custom',
          path: ['cohort', 'size'],
          message: `cohort size ${cfg.cohort.size} exceeds the ${cfg.participants.length} allowed participants`,
        });
      }
      if (cfg.cohort.size < cfg.threshold) {
        ctx.addIssue({ code: 'custom', path: ['cohort', 'size'], message: `cohort size ${cfg.cohort.size} is below threshold ${cfg.threshold}` });
      }
    }
  });

/**
 * Zod schema of a federation config file. Every field, range and cross-field rule is checked; the
 * output has the model's options completed and `dim` derived (see {@link resolveFederationModel}).
 */
export const FederationConfigSchema = FederationConfigFields.transform((cfg, ctx) => {
  const model = resolveFederationModel(cfg.model, cfg.data, cfg.dim);
  if ('issues' in model) {
    for (const i of model.issues) ctx.addIssue({ code: 'custom', path: i.path, message: i.message });
    return z.NEVER;
  }
  // The statistics round travels in a round's vector: it must hold a mean and a mean of squares per feature.
  if (statisticsSpec(cfg) !== null && roundDim({ dim: model.dim, evaluation: cfg.evaluation }) < statisticsCoordinates(cfg.data?.features.length ?? 0)) {
    ctx.addIssue({
      code: 'custom',
      path: ['data', 'standardize', 'federated'],
      message: `the statistics round sends ${statisticsCoordinates(cfg.data?.features.length ?? 0)} values (a mean and a mean of squares per feature) in the round's ${roundDim({ dim: model.dim, evaluation: cfg.evaluation })} coordinates, which cannot hold them: fix the standardisation or use a larger model`,
    });
    return z.NEVER;
  }
  return {
    ...cfg,
    model: model.model,
    dim: model.dim,
    minJoined: cfg.minJoined ?? Math.min(cfg.participants.length, Math.max(cfg.threshold, cfg.dp.minContributors ?? 0)),
  };
});

/** A validated federation config with defaults filled in. */
export type FederationConfig = z.infer<typeof FederationConfigSchema>;
/** The config as written in a file, before defaults. */
export type FederationConfigInput = z.input<typeof FederationConfigSchema>;

/** `a.b[2].c` style path of a zod issue. */
export function formatIssuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out === '' ? String(p) : `.${String(p)}`;
  }
  return out === '' ? '(root)' : out;
}

/** One line per zod issue: `field.path: message (rule)`. */
export function formatZodError(err: z.ZodError): string {
  return err.issues.map((i) => `${formatIssuePath(i.path)}: ${i.message} (${i.code})`).join('; ');
}

/**
 * Validates a parsed config object. Throws FedveilError('config/invalid') whose message lists
 * every problem with its field path and the rule broken.
 */
export function parseFederationConfig(value: unknown): FederationConfig {
  const res = FederationConfigSchema.safeParse(value);
  if (!res.success) throw new FedveilError('config/invalid', `invalid federation config: ${formatZodError(res.error)}`);
  return res.data;
}

/**
 * The config with every file path in it (storage, identity, TLS certificate and key) resolved
 * against `baseDir`, so that where a config points does not depend on the working directory.
 */
export function resolveConfigPaths(config: FederationConfig, baseDir: string): FederationConfig {
  const at = (p: string) => resolve(baseDir, p);
  return {
    ...config,
    storage:
      config.storage.path === undefined || config.storage.path === ':memory:' ? config.storage : { ...config.storage, path: at(config.storage.path) },
    ...(config.identity === undefined ? {} : { identity: at(config.identity) }),
    listen: { ...config.listen, ...(config.listen.tls ? { tls: { cert: at(config.listen.tls.cert), key: at(config.listen.tls.key) } } : {}) },
  };
}

/**
 * Reads a federation config from a `.yaml`/`.yml` or `.json` file; relative paths in it are
 * relative to the file's directory. Throws FedveilError('config/unreadable') when the file
 * cannot be read or parsed, 'config/invalid' when it breaks a rule.
 */
export function loadFederationConfig(path: string): FederationConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new FedveilError('config/unreadable', `cannot read config ${path}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    const ext = extname(path).toLowerCase();
    value = ext === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new FedveilError('config/unreadable', `cannot parse config ${path}: ${(err as Error).message}`);
  }
  return resolveConfigPaths(parseFederationConfig(value), dirname(resolve(path)));
}

/** Phases the coordinator runs in this mode (semi-honest skips the consistency check). */
export function phasesFor(mode: FederationConfig['mode']): readonly PhaseName[] {
  return phasesOf(mode);
}
