import { sha256 } from '@noble/hashes/sha2.js';
import { toHex, utf8 } from '../secagg/index.js';
import type { AsyncGroup } from './async-staleness.js';
import { canonicalJson } from './canonical-json.js';

/** Domain string inside every round binding. */
export const ROUND_BINDING_DOMAIN = 'fedveil/round-binding/v2';

/** The ledger head a coordinator announces before a round: the last entry's seq and hash. */
export interface LedgerHeadRef {
  seq: number;
  hash: string;
}

/**
 * The cohort draw as bound: method, inclusion probability, seed commitment and population, and
 * for an asynchronous group its versions and staleness weights.
 */
export interface BoundDraw {
  method: 'fixed-size' | 'poisson' | 'ready-first';
  samplingRate: number;
  seedCommitment: string;
  population: number;
  group?: AsyncGroup;
}

/** The draw record of a cohort draw: its bound fields, with the group when it has one. */
export function boundDraw(draw: BoundDraw): BoundDraw {
  return {
    method: draw.method,
    samplingRate: draw.samplingRate,
    seedCommitment: draw.seedCommitment,
    population: draw.population,
    ...(draw.group === undefined ? {} : { group: { modelVersion: draw.group.modelVersion, trainedOn: [...draw.group.trainedOn], weights: [...draw.group.weights] } }),
  };
}

/** What a round binding commits to. */
export interface RoundBindingInput {
  /** The round's protocol RoundConfig, wire form, without its `binding` field. */
  roundConfig: unknown;
  draw: BoundDraw;
  /** Hash of the federation's genesis entry. */
  genesisHash: string;
  /** The ledger head announced before the round (the entry the round's entry will follow). */
  ledgerHead: LedgerHeadRef;
  /** The round's clip norm C_t, in a federation with adaptive clipping (absent or null otherwise). */
  clipNorm?: number | null | undefined;
}

/**
 * The round binding (spec/ledger.md §4): SHA-256 of the canonical JSON of
 * `{domain, roundConfig, draw, genesisHash, ledgerHead}` (and `clipNorm`, the round's C_t, with
 * adaptive clipping). It goes into the RoundConfig, so every signature a participant makes in the
 * round covers it: the DP mechanism, c, the cohort and its draw, the genesis (hence δ and the
 * federation's terms), the history the round extends and the clip norm it clipped to.
 */
export function roundBinding(input: RoundBindingInput): Uint8Array {
  const { draw, ledgerHead } = input;
  return sha256(
    utf8(
      canonicalJson({
        domain: ROUND_BINDING_DOMAIN,
        roundConfig: input.roundConfig,
        draw: boundDraw(draw),
        genesisHash: input.genesisHash,
        ledgerHead: { seq: ledgerHead.seq, hash: ledgerHead.hash },
        // Only with adaptive clipping: a fixed-clipping round's binding is what it always was.
        ...(input.clipNorm === undefined || input.clipNorm === null ? {} : { clipNorm: input.clipNorm }),
      }),
    ),
  );
}

/** {@link roundBinding} in hex. */
export function roundBindingHex(input: RoundBindingInput): string {
  return toHex(roundBinding(input));
}

/** The wire form of a round config with its `binding` removed: what the binding itself covers. */
export function unboundWireConfig(wire: unknown): Record<string, unknown> {
  const { binding: _b, ...rest } = wire as Record<string, unknown>;
  return rest;
}
