import type { DpConfig } from '../dp/index.js';
import type { RoundPlan } from '../protocol/config.js';
import type { ClientMessage } from '../protocol/messages.js';
import { PROTOCOL_VERSION, type Phase } from '../protocol/phases.js';
import type { DropoutsByPhase } from '../protocol/results.js';
import { FedveilError, toHex } from '../secagg/index.js';
import type { CohortDraw } from './cohort.js';
import { entryEvent, type LedgerRecord } from './ledger-entry.js';
import { boundDraw } from './round-binding.js';

/**
 * What the coordinator keeps of a running round for its ledger entry: each contributor's signed
 * masked-input envelope (its co-signature of the round binding) and who sent unmask shares.
 */
export class RoundCoSignatures {
  private readonly maskedInput = new Map<number, { vectorSha256: string; signature: string }>();
  private readonly consistency = new Map<number, string>();
  private readonly unmasked = new Set<number>();

  /** Records an accepted submission of participant `index`. */
  observe(index: number, message: ClientMessage): void {
    if (message.type === 'masked-input') {
      this.maskedInput.set(index, { vectorSha256: toHex(message.vectorSha256), signature: toHex(message.signature) });
    } else if (message.type === 'consistency-check') {
      this.consistency.set(index, toHex(message.signature));
    } else if (message.type === 'unmask') {
      this.unmasked.add(index);
    }
  }

  /** Indices that sent unmask shares, sorted. */
  get unmaskResponders(): number[] {
    return [...this.unmasked].sort((a, b) => a - b);
  }

  /** Indices that signed the consistency check, sorted. */
  get consistencySigners(): number[] {
    return [...this.consistency.keys()].sort((a, b) => a - b);
  }

  /** The ledger's contributor records of U3 (index order), with their co-signatures. */
  contributors(u3: readonly number[], members: readonly string[]): LedgerRecordContributor[] {
    return u3.map((i) => {
      const mi = this.maskedInput.get(i);
      if (mi === undefined) throw new FedveilError('coordinator/missing-cosignature', `contributor ${i} has no recorded masked-input signature`);
      return { publicKey: members[i] as string, maskedInput: mi, consistencySignature: this.consistency.get(i) ?? null };
    });
  }
}

type LedgerRecordContributor = Extract<LedgerRecord, { kind: 'round' }>['contributors'][number];

/** The running round as the ledger needs it. */
export interface RoundContext {
  federationId: string;
  round: number;
  plan: RoundPlan;
  /** The round config's wire form without its binding. */
  unboundConfig: Record<string, unknown>;
  binding: string;
  draw: CohortDraw;
  dp: DpConfig;
  samplingRate: number;
  cosign: RoundCoSignatures;
  /** C_t, the clip norm stated for the round, with adaptive clipping; null for fixed clipping. */
  clipNorm: number | null;
}

/** The fields every charged entry (released or aborted after unmask) records about its round. */
export function chargedRoundFields(a: RoundContext, u3: readonly number[], dropouts: DropoutsByPhase, timestamp: string) {
  const members = a.draw.members;
  const key = (i: number): string => members[i] as string;
  const contributors = a.cosign.contributors(u3, members);
  const config = a.plan.config;
  const fields = {
    federationId: a.federationId,
    round: a.round,
    protocolVersion: PROTOCOL_VERSION,
    timestamp,
    mode: config.mode,
    threshold: a.plan.threshold,
    dim: config.dim,
    roundConfig: a.unboundConfig,
    binding: a.binding,
    cohort: {
      draw: boundDraw(a.draw),
      members: [...members],
    },
    contributors,
    dropouts: Object.fromEntries((Object.keys(dropouts) as Phase[]).map((p) => [p, dropouts[p].map(key)])) as Record<Phase, string[]>,
    mechanism: a.dp,
    samplingRate: a.samplingRate,
  };
  // A released round replaces the null fraction with the one it released.
  const clipping = a.clipNorm === null ? {} : { clipping: { clipNorm: a.clipNorm, fraction: null as number | null } };
  return { ...fields, dpEvent: entryEvent(fields, a.plan.colluders), ...clipping };
}

/**
 * The ledger record of a round that aborted during unmask after some participant revealed its
 * shares: charged, since the coordinator may hold enough shares to unmask the sum.
 */
export function abortedAfterUnmaskRecord(
  a: RoundContext,
  sets: { u1: readonly number[]; u2: readonly number[]; u3: readonly number[] },
  malicious: boolean,
  model: { version: number; hash: string },
  outcome: { code: string; reason: string },
  timestamp: string,
): LedgerRecord {
  return {
    kind: 'aborted-after-unmask',
    ...chargedRoundFields(a, sets.u3, abortedDropouts(a.plan.n, sets, a.cosign, malicious), timestamp),
    abort: { code: outcome.code, reason: outcome.reason.slice(0, 1000) },
    unmaskResponders: a.cosign.unmaskResponders.map((i) => a.draw.members[i] as string),
    modelVersion: model.version,
    modelHash: model.hash,
  };
}

/**
 * Who missed each phase of a round that aborted during unmask, from its participant sets: the
 * protocol's aborted outcome carries no dropouts, and the charged entry records them all.
 */
export function abortedDropouts(n: number, sets: { u1: readonly number[]; u2: readonly number[]; u3: readonly number[] }, cosign: RoundCoSignatures, malicious: boolean): DropoutsByPhase {
  const minus = (a: readonly number[], b: readonly number[]) => a.filter((x) => !b.includes(x));
  const all = Array.from({ length: n }, (_, i) => i);
  const signers = malicious ? cosign.consistencySigners : [...sets.u3];
  return {
    'advertise-keys': minus(all, sets.u1),
    'share-keys': minus(sets.u1, sets.u2),
    'masked-input': minus(sets.u2, sets.u3),
    'consistency-check': malicious ? minus(sets.u3, signers) : [],
    unmask: minus(signers, cosign.unmaskResponders),
  };
}
