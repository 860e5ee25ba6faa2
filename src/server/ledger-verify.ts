import { z } from 'zod';
import { adaptiveClipRule, ClipChain } from './adaptive-clip.js';
import { roundDim } from './federated-evaluation.js';
import { noiseProbeCoordinates } from './noise-probe.js';
import { encodedLength } from '../dp/index.js';
import { spentEpsilon, withinTarget } from './budget-guard.js';
import { consistencySignedBytesOver, maskedInputSignedBytes } from '../protocol/canonical.js';
import { planRound, RoundConfigSchema, type RoundConfig } from '../protocol/config.js';
import { defaultProvider, fromHex, toHex, type CryptoProvider } from '../secagg/index.js';
import { groupProblems } from './async-staleness.js';
import { canonicalJson, equalUpToRounding } from './canonical-json.js';
import { drawCohort } from './cohort.js';
import { formatZodError } from './config.js';
import { eventsMatch, type DpConfig, type DpEvent } from '../dp/index.js';
import { maxCohortSize } from './federation-plan.js';
import { amendedMechanism, amendmentFacts, currentTerms } from './ledger-amendment.js';
import {
  entryEvent,
  isCharged,
  LedgerEntrySchema,
  ledgerEntryHash,
  ledgerSignatureMessage,
  ZERO_HASH,
  type AmendmentEntry,
  type ChargedEntry,
  type GenesisEntry,
  type LedgerEntry,
} from './ledger-entry.js';
import { genesisFederationConfig, genesisProblems, genesisSamplingRate, publicDrawSeed } from './ledger-genesis.js';
import { roundBinding } from './round-binding.js';
import { statisticsSpec } from './federated-statistics.js';
import { statisticsProblems } from './statistics-entry.js';

/** One reason a ledger does not hold. */
export interface LedgerDiscrepancy {
  /** Stable rule identifier, e.g. `ledger/broken-chain`. */
  code: string;
  /** Index of the offending line in the input (0-based); -1 for the ledger as a whole. */
  index: number;
  /** The entry's round id, when the entry parsed and has one. */
  round?: number;
  message: string;
}

/** Options of {@link verifyLedger}. */
export interface VerifyLedgerOptions {
  provider?: CryptoProvider;
  /** When set, every entry must name this federation. */
  federationId?: string;
  /**
   * The first `verifiedPrefix` entries were verified before (a participant re-checking a ledger
   * that grew): their signatures are not checked again; chain, genesis and agreement still are.
   */
  verifiedPrefix?: number;
}

/** Verifies without throwing: a message that cannot be built (e.g. an index out of range) fails. */
function safeVerify(provider: CryptoProvider, publicKey: string, message: () => Uint8Array, signature: string): boolean {
  try {
    return provider.ed25519Verify(fromHex(publicKey), message(), fromHex(signature));
  } catch {
    return false;
  }
}

const isHexKey = (k: string): boolean => /^[0-9a-f]{64}$/.test(k);

/** The genesis a ledger opens with, when its first line is one. */
export function ledgerGenesis(entries: readonly unknown[]): GenesisEntry | null {
  const first = LedgerEntrySchema.safeParse(entries[0]);
  return first.success && first.data.kind === 'genesis' ? first.data : null;
}

/** The round config an entry records, decoded; null when it is not a valid wire RoundConfig. */
export function entryRoundConfig(e: ChargedEntry): RoundConfig | null {
  const r = z.safeDecode(RoundConfigSchema, e.roundConfig as z.input<typeof RoundConfigSchema>);
  return r.success ? (r.data as RoundConfig) : null;
}

/**
 * How a round's draw disagrees with the genesis (empty when it agrees): method, population, seed
 * commitment, a sampling rate that is not the genesis's rate (or size / N), and for fixed-size
 * cohorts the number of members drawn.
 */
export function drawProblems(draw: ChargedEntry['cohort']['draw'], members: readonly string[], g: Pick<GenesisEntry, 'cohort'>): string[] {
  const rate = genesisSamplingRate(g);
  const problems: string[] = [];
  if (draw.method !== g.cohort.method) problems.push(`draw method ${draw.method}, the genesis says ${g.cohort.method}`);
  if (draw.population !== g.cohort.population) problems.push(`population ${draw.population}, the genesis says ${g.cohort.population}`);
  if (draw.seedCommitment !== g.cohort.seedCommitment) problems.push("the draw seed commitment is not the genesis's");
  if (draw.samplingRate !== rate) problems.push(`the draw's sampling rate ${draw.samplingRate} does not follow from the genesis (${rate})`);
  if (g.cohort.method !== 'poisson' && members.length !== g.cohort.size) problems.push(`${members.length} members drawn, the cohort size is ${g.cohort.size}`);
  return problems;
}

/** The binding a charged entry's participants must have signed, recomputed from the entry and the genesis hash. */
export function entryBinding(e: ChargedEntry, genesisHash: string): Uint8Array {
  return roundBinding({ roundConfig: e.roundConfig, draw: e.cohort.draw, genesisHash, ledgerHead: { seq: e.seq - 1, hash: e.prevHash }, clipNorm: e.clipping?.clipNorm });
}

/**
 * Checks a whole ledger and returns EVERY discrepancy found (an empty list means it holds).
 *
 * - Structure: malformed entries, hashes that do not match their content, coordinator signatures
 *   (under `coordinatorPublicKey`, or the genesis's own key when null: an unpinned check), broken
 *   hash chain, missing / reordered entries, round ids that do not increase, the model chain.
 * - Genesis: entry 0 is a genesis that agrees with its own config; no other genesis; when
 *   `allowedParticipantKeys` is given it must be the genesis's participant list.
 * - Every charged entry agrees with the genesis: protocol version, mechanism (the latest
 *   amendment's, if any), mode, dimension, c, cohort members allowed, draw method / population /
 *   seed commitment, a sampling rate that follows from the draw and the genesis (and, for a public
 *   seed, the draw replays), its event.
 * - Amendments: the terms replaced are those in force, rounds released, ε spent and config hash
 *   follow from the ledger before, the target is above what was spent
 *   (`ledger/amendment-overspent`), the mechanism is the one calibrated for the remaining rounds
 *   (`ledger/amendment-mechanism`), and later rounds come from its `fromRound` on
 *   (`ledger/amendment-mismatch`).
 * - Federated standardisation: one statistics entry before every released training round
 *   (`ledger/statistics-missing`), recording the standardisation its released moments give under
 *   the genesis's data schema (`ledger/statistics-mismatch`); none in a federation without it.
 * - Co-signatures: the binding is recomputed from the entry (round config, draw, genesis hash,
 *   previous head) and at least `threshold` contributors' masked-input signatures must verify
 *   over it; every recorded co-signature must verify; malicious rounds' consistency signatures too.
 * - Adaptive clipping (`ledger/clip-mismatch`): every charged entry records the clip norm that the
 *   genesis's rule gives from the fractions released before it (the binding covers it), a
 *   released round its fraction; a fixed-clipping federation's entries record none.
 */
export function verifyLedger(
  entries: readonly unknown[],
  coordinatorPublicKey: Uint8Array | string | null,
  allowedParticipantKeys: readonly string[] | null,
  opts: VerifyLedgerOptions = {},
): LedgerDiscrepancy[] {
  const provider = opts.provider ?? defaultProvider;
  const skip = opts.verifiedPrefix ?? 0;
  const out: LedgerDiscrepancy[] = [];
  const genesis = ledgerGenesis(entries);
  let coordKey: string;
  if (coordinatorPublicKey === null) {
    coordKey = genesis?.coordinatorPublicKey ?? '';
  } else {
    coordKey = typeof coordinatorPublicKey === 'string' ? coordinatorPublicKey.toLowerCase() : toHex(coordinatorPublicKey);
    if (!isHexKey(coordKey)) {
      out.push({ code: 'ledger/bad-coordinator-key', index: -1, message: 'the coordinator public key is not 32 bytes' });
      coordKey = '';
    }
  }
  for (const k of allowedParticipantKeys ?? []) {
    if (!isHexKey(k.toLowerCase())) out.push({ code: 'ledger/bad-participant-key', index: -1, message: `allowed key ${k} is not 64 hex characters` });
  }
  if (entries.length === 0 || genesis === null) {
    out.push({ code: 'ledger/missing-genesis', index: 0, message: entries.length === 0 ? 'the ledger is empty: it has no genesis' : 'entry 0 is not a genesis entry' });
  }
  const allowed = new Set(genesis?.participants ?? (allowedParticipantKeys ?? []).map((k) => k.toLowerCase()));
  let genesisConfig: ReturnType<typeof genesisFederationConfig> | null = null;
  if (genesis !== null) {
    for (const p of genesisProblems(genesis)) out.push({ code: 'ledger/genesis-mismatch', index: 0, message: `genesis: ${p}` });
    try {
      genesisConfig = genesisFederationConfig(genesis);
    } catch {
      genesisConfig = null;
    }
    if (allowedParticipantKeys !== null && canonicalJson([...allowedParticipantKeys].map((k) => k.toLowerCase()).sort()) !== canonicalJson([...genesis.participants].sort())) {
      out.push({ code: 'ledger/genesis-mismatch', index: 0, message: 'the genesis does not list exactly the given allowed participants' });
    }
    if (coordKey !== '' && genesis.coordinatorPublicKey !== coordKey) {
      out.push({ code: 'ledger/genesis-mismatch', index: 0, message: `the genesis names coordinator key ${genesis.coordinatorPublicKey}, not ${coordKey}` });
    }
  }

  let prev: LedgerEntry | null = null;
  let lastModel: { version: number; hash: string } | null = genesis === null ? null : genesis.model;
  let lastRound: number | null = null;
  /** The readable entries so far (what the terms in force and an amendment's facts follow from). */
  const read: LedgerEntry[] = [];
  /** The events of the charged entries so far (what the ε target is checked against). */
  const charged: DpEvent[] = [];
  /** With federated standardisation: whether the statistics round was released yet (it precedes every training round). */
  const statistics = genesisConfig === null ? null : statisticsSpec(genesisConfig);
  let statisticsReleased = false;
  /** With adaptive clipping, the clip norms the charged entries must follow. */
  const clipRule = genesisConfig === null ? null : adaptiveClipRule(genesisConfig);
  const clipChain = clipRule === null ? null : new ClipChain(clipRule);
  entries.forEach((raw, index) => {
    const parsed = LedgerEntrySchema.safeParse(raw);
    if (!parsed.success) {
      out.push({ code: 'ledger/malformed-entry', index, message: `entry ${index}: ${formatZodError(parsed.error)}` });
      // The chain cannot be followed through an unreadable entry; the next entry is checked against
      // the last readable one, so a single bad line yields the precise errors around it.
      return;
    }
    const e = parsed.data;
    const round = isCharged(e) ? e.round : undefined;
    const report = (code: string, message: string): void => {
      out.push({ code, index, ...(round === undefined ? {} : { round }), message: `entry ${index}${round === undefined ? '' : ` (round ${round})`}: ${message}` });
    };
    const fresh = index >= skip;

    if (opts.federationId !== undefined && e.federationId !== opts.federationId) {
      report('ledger/federation-mismatch', `federation '${e.federationId}', expected '${opts.federationId}'`);
    }
    const recomputed = ledgerEntryHash(e);
    if (recomputed !== e.hash) report('ledger/bad-hash', `recorded hash ${e.hash} but content hashes to ${recomputed}`);
    if (fresh && coordKey !== '' && !safeVerify(provider, coordKey, () => ledgerSignatureMessage(e.hash), e.signature)) {
      report('ledger/bad-signature', 'the coordinator signature does not verify');
    }
    if (e.seq !== index) {
      if (e.seq > index) report('ledger/missing-entry', `sequence number ${e.seq} at position ${index}: entries ${index}..${e.seq - 1} are missing`);
      else report('ledger/reordered-entry', `sequence number ${e.seq} at position ${index}: entry repeated or out of order`);
    }
    if (index === 0 && e.prevHash !== ZERO_HASH) {
      report('ledger/broken-chain', 'the first entry does not start from the zero hash');
    } else if (prev !== null && e.prevHash !== prev.hash) {
      report('ledger/broken-chain', `prevHash ${e.prevHash} is not the previous entry's hash ${prev.hash}`);
    }
    if (prev !== null && e.federationId !== prev.federationId) report('ledger/federation-mismatch', `federation changed from '${prev.federationId}'`);
    prev = e;
    if (e.kind === 'genesis') {
      if (index === 0) read.push(e);
      if (index !== 0) report('ledger/extra-genesis', 'a genesis entry after the first: the federation was reopened');
      return;
    }
    if (e.kind === 'amendment') {
      if (genesis !== null) checkAmendment(e, genesis, genesisConfig, read, lastRound, report);
      read.push(e);
      return;
    }
    const amendment = read.findLast((x): x is AmendmentEntry => x.kind === 'amendment');
    if (amendment !== undefined && e.round < amendment.fromRound) report('ledger/amendment-mismatch', `round ${e.round} follows an amendment that applies from round ${amendment.fromRound}`);

    if (lastRound !== null && e.round <= lastRound) report('ledger/round-not-increasing', `round ${e.round} does not follow round ${lastRound}`);
    lastRound = e.round;
    const before = e.kind === 'round' ? { version: e.modelVersionBefore, hash: e.modelHashBefore } : { version: e.modelVersion, hash: e.modelHash };
    if (lastModel !== null && before.hash !== lastModel.hash) report('ledger/model-chain', `the model the round started from is not the published one`);
    if (lastModel !== null && before.version !== lastModel.version) report('ledger/model-chain', `model version ${before.version} does not follow ${lastModel.version}`);
    if (e.kind === 'statistics') {
      const problems = statisticsProblems(e, statistics);
      if (statisticsReleased) problems.push('a second statistics round: the federation estimates its standardisation once');
      for (const p of problems) report('ledger/statistics-mismatch', p);
      statisticsReleased = true;
    }
    if (e.kind === 'round' && statistics !== null && !statisticsReleased) {
      report('ledger/statistics-missing', 'a training round before the statistics round: the federation standardises with statistics it estimates before round 0');
    }
    if (e.kind === 'round') {
      if (e.modelVersionAfter !== e.modelVersionBefore + 1) report('ledger/model-chain', `model version jumps from ${e.modelVersionBefore} to ${e.modelVersionAfter}`);
      lastModel = { version: e.modelVersionAfter, hash: e.modelHashAfter };
    }

    checkMembership(e, allowed, report);
    if (genesis !== null) checkAgainstGenesis(e, genesis, currentTerms(genesis, read).mechanism, genesisConfig, fresh, report);
    if (clipChain !== null) for (const p of clipChain.follow(e)) report('ledger/clip-mismatch', p);
    else if (genesisConfig !== null && e.clipping !== undefined) report('ledger/clip-mismatch', 'the entry records a clip norm, but the genesis config clips every round at its fixed dp.clipNorm');
    read.push(e);
    const expectedEvent = safeEvent(e, genesis?.colluders ?? 0);
    if (expectedEvent !== null) charged.push(expectedEvent);
    if (expectedEvent === null || !eventsMatch(e.dpEvent, expectedEvent)) report('ledger/event-mismatch', 'the recorded privacy event is not the event of the round\'s mechanism on its contributors, less the genesis\'s colluders');
    if (genesis !== null && fresh) checkCoSignatures(e, genesis, provider, report);
  });
  if (genesis !== null && entries.length > skip) {
    const target = currentTerms(genesis, read).epsilonBudget;
    const accountant = genesisConfig?.dp.accountant ?? 'rdp';
    const spent = target === null ? 0 : spentEpsilon(charged, genesis.delta, accountant);
    if (target !== null && !withinTarget(spent, target, accountant)) {
      const index = read.length - 1;
      out.push({ code: 'ledger/over-target', index, message: `entry ${index}: the charged rounds spend ε ${spent} (a participant in every charged round), above the ε target ${target}` });
    }
  }
  return out;
}

/** The entry's expected event, or null when its fields form none (an invalid mechanism, or too few noise shares). */
function safeEvent(e: ChargedEntry, colluders: number): DpEvent | null {
  try {
    return entryEvent(e, colluders);
  } catch {
    return null;
  }
}

type Report = (code: string, message: string) => void;

function checkMembership(e: ChargedEntry, allowed: ReadonlySet<string>, report: Report): void {
  const cohort = new Set(e.cohort.members);
  for (const m of e.cohort.members) {
    if (allowed.size > 0 && !allowed.has(m)) report('ledger/unknown-participant', `cohort member ${m} is not an allowed participant`);
  }
  if (cohort.size !== e.cohort.members.length) report('ledger/duplicate-participant', 'the cohort lists a participant twice');
  const contributorKeys = new Set<string>();
  for (const c of e.contributors) {
    if (contributorKeys.has(c.publicKey)) report('ledger/duplicate-participant', `contributor ${c.publicKey} listed twice`);
    contributorKeys.add(c.publicKey);
    if (!cohort.has(c.publicKey)) report('ledger/contributor-not-in-cohort', `contributor ${c.publicKey} was not in the cohort`);
  }
  for (const [phase, keys] of Object.entries(e.dropouts)) {
    for (const k of keys) {
      if (!cohort.has(k)) report('ledger/dropout-not-in-cohort', `${phase} dropout ${k} was not in the cohort`);
      if (contributorKeys.has(k) && phase !== 'consistency-check' && phase !== 'unmask') {
        report('ledger/dropout-contributed', `${k} is both a contributor and a ${phase} dropout`);
      }
    }
  }
  if (e.contributors.length < e.threshold) report('ledger/below-threshold', `${e.contributors.length} contributors, below threshold ${e.threshold}`);
}

/**
 * What an amendment must agree with (spec/ledger.md §2.4): the terms it replaces are the ones in
 * force, its facts (rounds released, ε spent, config hash) follow from the ledger before it, its
 * target is above what was spent, it applies after the last round, and its mechanism is the one
 * calibrated for the remaining rounds.
 */
function checkAmendment(
  e: AmendmentEntry,
  g: GenesisEntry,
  config: ReturnType<typeof genesisFederationConfig> | null,
  before: readonly LedgerEntry[],
  lastRound: number | null,
  report: Report,
): void {
  if (e.protocolVersion !== g.protocolVersion) report('ledger/protocol-version', `protocol version ${e.protocolVersion}, the genesis says ${g.protocolVersion}`);
  const terms = currentTerms(g, before);
  const accountant = config?.dp.accountant ?? 'rdp';
  const facts = amendmentFacts(g, before, e.amended, accountant);
  // The target in force until now held (spec/ledger.md §2.3); the amended one is checked below.
  if (terms.epsilonBudget !== null && Number.isFinite(facts.spent) && !withinTarget(facts.spent, terms.epsilonBudget, accountant)) {
    report('ledger/over-target', `the rounds before this amendment spent ε ${facts.spent}, above the ε target ${terms.epsilonBudget} then in force`);
  }
  const problems: string[] = [];
  if (canonicalJson(e.previous) !== canonicalJson(facts.previous)) problems.push(`it amends terms ${canonicalJson(e.previous)}, those in force are ${canonicalJson(facts.previous)}`);
  if (e.releasedRounds !== facts.releasedRounds) problems.push(`it says ${e.releasedRounds} rounds were released before it, the ledger has ${facts.releasedRounds}`);
  const spent = Number.isFinite(facts.spent) ? facts.spent : null;
  const close = e.epsilonSpent !== null && spent !== null && Math.abs(e.epsilonSpent - spent) <= 1e-9 * Math.max(e.epsilonSpent, spent);
  if (!(e.epsilonSpent === spent || close)) {
    problems.push(`it records ε ${e.epsilonSpent} spent, the rounds before it spent ${spent}`);
  }
  if (e.configHash !== facts.configHash) problems.push('configHash is not the hash of the genesis config with the amended rounds and ε target');
  if ((e.amended.epsilonBudget === null) !== (terms.epsilonBudget === null)) problems.push('an amendment cannot add or remove the ε target, only change it');
  if (lastRound !== null && e.fromRound <= lastRound) problems.push(`it applies from round ${e.fromRound}, not after the last round ${lastRound}`);
  for (const p of problems) report('ledger/amendment-mismatch', p);
  if (e.amended.epsilonBudget !== null && spent !== null && !(spent < e.amended.epsilonBudget)) {
    report('ledger/amendment-overspent', `its ε target ${e.amended.epsilonBudget} is not above the ε ${spent} already spent`);
  }
  if (config === null) return;
  let expected: DpConfig | null;
  try {
    expected = amendedMechanism(g, terms.mechanism, facts, e.amended, { accountant, dim: roundDim(config), maxCohort: maxCohortSize(config) });
  } catch {
    expected = null;
  }
  if (expected === null || !equalUpToRounding(expected, e.mechanism)) {
    report('ledger/amendment-mechanism', `its mechanism ${canonicalJson(e.mechanism)} is not the one calibrated for the remaining rounds within the amended target (${expected === null ? 'none can be' : canonicalJson(expected)})`);
  }
}

/** What the genesis (and the amendments before) fix for every round: versions, mechanism, mode, dimension, c, the draw and its sampling rate. */
function checkAgainstGenesis(e: ChargedEntry, g: GenesisEntry, mechanism: DpConfig, config: ReturnType<typeof genesisFederationConfig> | null, fresh: boolean, report: Report): void {
  if (e.protocolVersion !== g.protocolVersion) report('ledger/protocol-version', `protocol version ${e.protocolVersion}, the genesis says ${g.protocolVersion}`);
  if (canonicalJson(e.mechanism) !== canonicalJson(mechanism)) report('ledger/mechanism-mismatch', `mechanism ${canonicalJson(e.mechanism)} is not the ${canonicalJson(mechanism)} the genesis and amendments set`);
  if (config !== null && (e.mode !== config.mode || e.dim !== roundDim(config))) report('ledger/config-mismatch', `mode ${e.mode} / dim ${e.dim}, the genesis config says ${config.mode} / ${roundDim(config)}`);
  if (config !== null && e.kind === 'round') {
    const probe = noiseProbeCoordinates(config);
    const recorded = e.noiseProbe?.length ?? 0;
    if (recorded !== probe) report('ledger/noise-probe-mismatch', `the entry records ${recorded} noise-probe values, the genesis config has every round release ${probe}`);
  }
  const problems = drawProblems(e.cohort.draw, e.cohort.members, g);
  if (e.samplingRate !== genesisSamplingRate(g)) problems.push(`samplingRate ${e.samplingRate} does not follow from the draw and the genesis (${genesisSamplingRate(g)})`);
  for (const p of problems) report('ledger/sampling-mismatch', p);
  if (config !== null) checkGroup(e, config, report);
  const seed = config === null ? null : publicDrawSeed(config.seed);
  if (seed !== null && config !== null && e.cohort.draw.method !== 'ready-first') {
    const replay = drawCohort(g.participants, config.cohort, seed, e.round).members;
    if (canonicalJson(replay) !== canonicalJson(e.cohort.members)) report('ledger/draw-mismatch', 'the cohort is not the one the public seed draws for this round');
  }
  const rc = entryRoundConfig(e);
  const rcProblems: string[] = [];
  if (rc === null) rcProblems.push('the recorded round config is not a valid RoundConfig');
  else {
    if (rc.binding !== undefined) rcProblems.push('the recorded round config carries its own binding');
    if (rc.federationId !== e.federationId || rc.round !== e.round) rcProblems.push('federation or round differs from the entry');
    if (canonicalJson(rc.participants.map((p) => toHex(p))) !== canonicalJson(e.cohort.members)) rcProblems.push('participants are not the cohort members');
    if (rc.threshold !== e.threshold || rc.mode !== e.mode || rc.dim !== e.dim) rcProblems.push('threshold, mode or dim differs from the entry');
    if (canonicalJson(rc.dp) !== canonicalJson(e.mechanism)) rcProblems.push('its DP configuration is not the entry\'s mechanism');
    if ((rc.colluders ?? 0) !== g.colluders) rcProblems.push(`c = ${rc.colluders ?? 0}, the genesis says ${g.colluders}`);
    // planRound builds the round's encoder (O(d)): entries verified before are not planned again.
    if (rcProblems.length === 0 && fresh) {
      try {
        planRound(rc);
      } catch (err) {
        rcProblems.push(`not a valid round: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
  for (const p of rcProblems) report('ledger/round-config-mismatch', p);
}

/**
 * An asynchronous group's record: present exactly on 'ready-first' draws, applied to the model the
 * round started from, no member staler than the genesis config's bound (`ledger/stale-member`),
 * every weight the config's staleness function of its member's staleness
 * (`ledger/staleness-weight-mismatch`).
 */
function checkGroup(e: ChargedEntry, config: ReturnType<typeof genesisFederationConfig>, report: Report): void {
  const group = e.cohort.draw.group;
  const asyncRules = config.async;
  if (e.cohort.draw.method !== 'ready-first' || asyncRules === undefined) {
    if (group !== undefined) report('ledger/group-mismatch', 'a round that is no asynchronous group records group versions and weights');
    return;
  }
  if (group === undefined) {
    report('ledger/group-mismatch', 'an asynchronous group does not record its versions and staleness weights');
    return;
  }
  const before = e.kind === 'round' ? e.modelVersionBefore : e.modelVersion;
  for (const p of groupProblems(group, asyncRules, e.cohort.members.length, before)) {
    report(p.code === 'group-shape' ? 'ledger/group-mismatch' : `ledger/${p.code}`, p.message);
  }
}

/** The binding recomputed from the entry must be what it records, and at least t contributors must have signed it. */
function checkCoSignatures(e: ChargedEntry, g: GenesisEntry, provider: CryptoProvider, report: Report): void {
  const binding = entryBinding(e, g.hash);
  if (toHex(binding) !== e.binding) report('ledger/binding-mismatch', 'the recorded binding is not the binding of the round config, draw, genesis and previous head');
  const rc = entryRoundConfig(e);
  if (rc === null) return;
  const index = new Map(e.cohort.members.map((k, i) => [k, i]));
  const header = { version: e.protocolVersion, federationId: e.federationId, round: e.round };
  let length: number;
  try {
    length = encodedLength(rc.dp, rc.dim) + rc.extraCoordinates;
  } catch {
    return;
  }
  const forged: string[] = [];
  for (const c of e.contributors) {
    const ok = safeVerify(
      provider,
      c.publicKey,
      () => maskedInputSignedBytes(header, index.get(c.publicKey) ?? -1, { length, bits: rc.dp.bits, vectorSha256: fromHex(c.maskedInput.vectorSha256) }, binding),
      c.maskedInput.signature,
    );
    if (!ok) forged.push(c.publicKey);
  }
  const valid = e.contributors.length - forged.length;
  if (valid < e.threshold) {
    // Not a forged contributor or two: the participants did not sign what the entry records.
    report(
      'ledger/binding-not-cosigned',
      `${valid} contributors co-signed the round binding recomputed from the entry, fewer than the threshold ${e.threshold}: the participants did not run what the entry records (mechanism, sampling, genesis or history differ)`,
    );
  } else {
    for (const k of forged) report('ledger/bad-cosignature', `the masked-input signature of contributor ${k} does not verify over the round binding: it did not contribute`);
  }
  if (e.mode !== 'malicious') return;
  const u3 = e.contributors.map((c) => index.get(c.publicKey) ?? -1).sort((a, b) => a - b);
  const silent = new Set(e.dropouts['consistency-check']);
  const signedCount = e.contributors.filter((c) => c.consistencySignature !== null).length;
  const consistencyBytes = consistencySignedBytesOver(header, u3, binding);
  if (signedCount < e.threshold) report('ledger/below-threshold', `${signedCount} consistency signatures, below threshold ${e.threshold}`);
  for (const c of e.contributors) {
    if (c.consistencySignature === null) {
      // A contributor that dropped before signing is recorded as a consistency-check dropout.
      if (!silent.has(c.publicKey)) report('ledger/missing-consistency-signature', `contributor ${c.publicKey} has no consistency signature`);
    } else if (!safeVerify(provider, c.publicKey, () => consistencyBytes(index.get(c.publicKey) ?? -1), c.consistencySignature)) {
      report('ledger/bad-consistency-signature', `the consistency signature of ${c.publicKey} does not verify`);
    }
  }
}
