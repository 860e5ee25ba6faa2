import { sha256 } from '@noble/hashes/sha2.js';
import { RDP_ACCOUNTANT } from '../dp/index.js';
import { PROTOCOL_VERSION } from '../protocol/phases.js';
import { toHex, utf8 } from '../secagg/index.js';
import { canonicalJson, equalUpToRounding } from './canonical-json.js';
import { FederationConfigSchema, type FederationConfig } from './config.js';
import { federationDpConfig } from './federation-plan.js';
import { NEIGHBOURING_RELATION, type GenesisBody, type LedgerRecord } from './ledger-entry.js';

/**
 * Config fields that are operational, not privacy-relevant, and stay out of the genesis: where
 * the coordinator stores its state and identity, where it listens, how long it holds a long-poll,
 * its phase deadlines, its request-size limit and whether it serves the dashboard.
 */
export const OPERATIONAL_CONFIG_FIELDS = ['storage', 'identity', 'listen', 'longPollMs', 'deadlines', 'maxBodyBytes', 'dashboard'] as const;

/** The privacy-relevant part of a federation config: every field but {@link OPERATIONAL_CONFIG_FIELDS}. */
export function privacyConfig(config: FederationConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  for (const k of OPERATIONAL_CONFIG_FIELDS) delete out[k];
  for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
  return JSON.parse(JSON.stringify(out)) as Record<string, unknown>;
}

/** SHA-256 (hex) of the canonical JSON of a privacy config. */
export function configHash(privacy: Record<string, unknown>): string {
  return toHex(sha256(utf8(canonicalJson(privacy))));
}

/**
 * The cohort draw seed of a federation whose config fixes a public `seed` (anyone can replay its
 * draws); a federation without one draws from a secret random seed the coordinator keeps.
 */
export function publicDrawSeed(seed: FederationConfig['seed']): Uint8Array | null {
  return seed === undefined ? null : utf8(`config:${seed}`);
}

/** SHA-256 (hex) of a draw seed: what the genesis and every round record of it. */
export function drawSeedCommitment(drawSeed: Uint8Array): string {
  return toHex(sha256(drawSeed));
}

/** What the coordinator knows when it opens the ledger, besides the config. */
export interface GenesisContext {
  coordinatorPublicKey: string;
  drawSeedCommitment: string;
  timestamp: string;
  model: { version: number; hash: string };
}

/** The genesis record of a federation (entry 0, before it is chained and signed). */
export function genesisRecord(config: FederationConfig, ctx: GenesisContext): LedgerRecord {
  const privacy = privacyConfig(config);
  const population = config.participants.length;
  const seed = config.seed === undefined ? ('secret' as const) : ('public' as const);
  return {
    kind: 'genesis',
    federationId: config.federationId,
    protocolVersion: PROTOCOL_VERSION,
    timestamp: ctx.timestamp,
    coordinatorPublicKey: ctx.coordinatorPublicKey,
    config: privacy,
    configHash: configHash(privacy),
    delta: config.dp.delta,
    epsilonBudget: config.dp.targetEpsilon ?? null,
    accountant: { name: RDP_ACCOUNTANT.name, version: RDP_ACCOUNTANT.version },
    neighbouring: NEIGHBOURING_RELATION,
    cohort:
      config.async !== undefined && 'size' in config.cohort
        ? { method: 'ready-first', size: config.cohort.size, population, seedCommitment: ctx.drawSeedCommitment, seed }
        : 'size' in config.cohort
        ? { method: 'fixed-size', size: config.cohort.size, population, seedCommitment: ctx.drawSeedCommitment, seed }
        : { method: 'poisson', rate: config.cohort.samplingRate, population, seedCommitment: ctx.drawSeedCommitment, seed },
    participants: [...config.participants],
    colluders: config.colluders,
    mechanism: federationDpConfig(config),
    model: { ...ctx.model },
  };
}

/** The federation config a genesis records, with placeholder operational fields; throws when it is not a valid config. */
export function genesisFederationConfig(genesis: Pick<GenesisBody, 'config'>): FederationConfig {
  return FederationConfigSchema.parse({ ...genesis.config, storage: { path: ':memory:' } });
}

/**
 * Every way a genesis disagrees with its own config (empty when it holds): the config hash, and
 * each bound field (federation, δ, ε budget, cohort rule, population, seed kind and, for a public
 * seed, its commitment, participants, c, the calibrated mechanism, accountant, neighbouring
 * relation and protocol version) against what the config implies.
 */
export function genesisProblems(genesis: GenesisBody): string[] {
  const out: string[] = [];
  if (configHash(genesis.config) !== genesis.configHash) out.push('configHash is not the hash of the recorded config');
  let config: FederationConfig;
  try {
    config = genesisFederationConfig(genesis);
  } catch (e) {
    return [...out, `the recorded config is not a valid federation config: ${e instanceof Error ? e.message.slice(0, 300) : String(e)}`];
  }
  if (canonicalJson(privacyConfig(config)) !== canonicalJson(genesis.config)) out.push('the recorded config is not in its canonical (defaults filled) form');
  let expected: ReturnType<typeof genesisRecord>;
  try {
    expected = genesisRecord(config, {
      coordinatorPublicKey: genesis.coordinatorPublicKey,
      drawSeedCommitment: genesis.cohort.seedCommitment,
      timestamp: genesis.timestamp,
      model: genesis.model,
    });
  } catch (e) {
    return [...out, `the recorded config gives no DP configuration: ${e instanceof Error ? e.message : String(e)}`];
  }
  const fields = ['federationId', 'protocolVersion', 'delta', 'epsilonBudget', 'accountant', 'neighbouring', 'cohort', 'participants', 'colluders', 'mechanism'] as const;
  for (const f of fields) {
    // The mechanism's noise is recomputed by calibration, which engines round differently in the last bits.
    const same = f === 'mechanism' ? equalUpToRounding(expected.mechanism, genesis.mechanism) : canonicalJson((expected as GenesisBody)[f]) === canonicalJson(genesis[f]);
    if (!same) out.push(`${f} ${canonicalJson(genesis[f])} is not what the config implies (${canonicalJson((expected as GenesisBody)[f])})`);
  }
  const seed = publicDrawSeed(config.seed);
  if (seed !== null && drawSeedCommitment(seed) !== genesis.cohort.seedCommitment) out.push('the seed commitment is not the commitment of the config\'s public seed');
  return out;
}

/**
 * The inclusion probability of every round of a federation: its Poisson rate, or size / N; 1 for
 * asynchronous groups, whose members select themselves (no amplification by sampling is claimed).
 */
export function genesisSamplingRate(genesis: Pick<GenesisBody, 'cohort'>): number {
  if (genesis.cohort.method === 'ready-first') return 1;
  return genesis.cohort.method === 'poisson' ? genesis.cohort.rate : genesis.cohort.size / genesis.cohort.population;
}
