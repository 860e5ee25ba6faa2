import { describe, expect, it } from 'vitest';
import { planRound } from '../../src/protocol/config.js';
import type { ClientMessage, ConsistencyRequestMessage, ServerHeader, UnmaskRequestMessage } from '../../src/protocol/messages.js';
import type { ClientRound } from '../../src/protocol/client/client-round.js';
import { testFederation } from '../../src/protocol/testing/fixtures.js';
import { codeOf, sent, start, toServer, world } from './helpers.js';

/**
 * The split-view attack on the consistency round (malicious mode): the server shows one group of
 * honest participants a U3 without the target and another group a U3 with it. If both groups reach
 * the quorum, the first reveals the target's mask-key shares and the second its self-mask shares,
 * and the server unmasks the target's input alone. Participants colluding with the server sign
 * both views. The protocol's defence is the quorum rule 2q > n + c.
 */

const N = 7;
const T = 3;
const TARGET = 6;

interface Attack {
  /** Quorum the round ran with. */
  quorum: number;
  /** Kinds of the target's shares the server obtained (colluders give theirs freely). */
  selfMaskShares: number;
  maskKeyShares: number;
  /** Each honest client's answer to its forged unmask request. */
  answers: string[];
}

/**
 * Runs the attack: honest clients in `groupA` see U3 = everyone but the target, those in `groupB`
 * see everyone; each colluder signs both views (a twin client with the same key and randomness
 * signs the second).
 */
function splitView(opts: { colluders?: number; declared?: number; minSurvivors?: number; groupA: number[]; groupB: number[] }): Attack {
  const colluders = new Set(Array.from({ length: opts.colluders ?? 0 }, (_, i) => opts.groupA.length + i));
  const w = world({
    n: N,
    t: T,
    mode: 'malicious',
    seed: 'split-view',
    ...(opts.declared !== undefined ? { colluders: opts.declared } : {}),
    ...(opts.minSurvivors !== undefined ? { minSurvivors: opts.minSurvivors } : {}),
  });
  const twins = new Map<number, ClientRound>([...colluders].map((i) => [i, w.client(i)]));
  const both = (to: number, m: Parameters<ClientRound['receive']>[0]): ClientMessage => {
    const twin = twins.get(to);
    if (twin) sent(twin.receive(m));
    return sent((w.clients[to] as ClientRound).receive(m));
  };
  for (const [i, twin] of twins) expect(sent(twin.start())).toEqual(sent((w.clients[i] as ClientRound).start()));
  let msgs = start(w);
  for (let phase = 0; phase < 2; phase++) msgs = new Map([...toServer(w, msgs)].map(([to, m]) => [to, both(to, m)]));
  const requests = toServer(w, msgs);
  const viewA = [...Array(N).keys()].filter((i) => i !== TARGET);
  const viewB = [...Array(N).keys()];
  const sigA: { signer: number; signature: Uint8Array }[] = [];
  const sigB: { signer: number; signature: Uint8Array }[] = [];
  const sign = (c: ClientRound, to: number, u3: number[], into: typeof sigA) => {
    const m = sent(c.receive({ ...(requests.get(to) as ConsistencyRequestMessage), u3 }));
    if (m.type !== 'consistency-check') throw new Error('no consistency signature');
    into.push({ signer: to, signature: m.signature });
  };
  for (const to of opts.groupA) sign(w.clients[to] as ClientRound, to, viewA, sigA);
  for (const to of opts.groupB) sign(w.clients[to] as ClientRound, to, viewB, sigB);
  for (const [to, twin] of twins) {
    sign(w.clients[to] as ClientRound, to, viewA, sigA);
    sign(twin, to, viewB, sigB);
  }
  const header: ServerHeader = { ...(requests.get(0) as ConsistencyRequestMessage).header, phase: 'unmask' };
  const request = (u3: number[], dropped: number[], signatures: typeof sigA): UnmaskRequestMessage => ({
    type: 'unmask-request',
    header,
    u3,
    dropped,
    signatures: [...signatures].sort((a, b) => a.signer - b.signer),
  });
  const answers: string[] = [];
  for (const to of opts.groupA) answers.push(codeOf((w.clients[to] as ClientRound).receive(request(viewA, [TARGET], sigA))));
  for (const to of opts.groupB) answers.push(codeOf((w.clients[to] as ClientRound).receive(request(viewB, [], sigB))));
  let selfMaskShares = colluders.size;
  let maskKeyShares = colluders.size;
  for (const to of [...opts.groupA, ...opts.groupB]) {
    const kind = (w.clients[to] as ClientRound).revealed.get(TARGET);
    if (kind === 'self-mask') selfMaskShares++;
    if (kind === 'mask-key') maskKeyShares++;
  }
  return { quorum: w.plan.minSurvivors, selfMaskShares, maskKeyShares, answers };
}

const exposed = (a: Attack) => a.selfMaskShares >= T && a.maskKeyShares >= T;

describe('split-view attack (malicious mode, n = 7, t = 3)', () => {
  it('the default quorum is the least q with 2q > n + c, so two disjoint honest views cannot both reach it', () => {
    const a = splitView({ groupA: [0, 1, 2], groupB: [3, 4, 5, 6] });
    expect(a.quorum).toBe(4);
    expect(exposed(a)).toBe(false);
    // Group A holds only 3 signatures over its view: every member refuses and reveals nothing.
    expect(a.answers.slice(0, 3)).toEqual(Array(3).fill('refused:protocol/consistency-below-threshold'));
    expect(a.maskKeyShares).toBe(0);
  });

  it('a quorum that is not a majority is refused when the round is planned, naming the rule', () => {
    const cfg = testFederation({ n: N, threshold: T, dim: 3, mode: 'malicious', seed: 'split-view', minSurvivors: 3 }).config;
    expect(() => planRound(cfg)).toThrow(/2q > n \+ c/);
    const withC = testFederation({ n: N, threshold: T, dim: 3, mode: 'malicious', seed: 'split-view', colluders: 1, minSurvivors: 4 }).config;
    expect(() => planRound(withC)).toThrow(/2q > n \+ c \(n = 7, c = 1\)/);
    expect(planRound({ ...withC, minSurvivors: 5 }).minSurvivors).toBe(5);
    // Semi-honest rounds have no consistency round and keep q = max(t, minContributors).
    expect(planRound({ ...cfg, mode: 'semi-honest' }).minSurvivors).toBe(3);
  });

  it('a participant colluding with the server signs both views: declaring c = 1 raises q to 5 and the attack fails', () => {
    const a = splitView({ colluders: 1, declared: 1, groupA: [0, 1, 2], groupB: [4, 5, 6] });
    expect(a.quorum).toBe(5);
    expect(exposed(a)).toBe(false);
    expect(a.answers).toEqual(Array(6).fill('refused:protocol/consistency-below-threshold'));
  });

  it('the guarantee holds only for the c the federation declares: one undeclared colluder breaks q = 4', () => {
    // This is the boundary of the threat model the README states, not a defect: with c = 0 the
    // federation assumes no participant colludes with the coordinator.
    const a = splitView({ colluders: 1, groupA: [0, 1, 2], groupB: [4, 5, 6] });
    expect(a.quorum).toBe(4);
    expect(exposed(a)).toBe(true);
  });

  it('the threshold must exceed the assumed colluders (t > c)', () => {
    const cfg = testFederation({ n: N, threshold: T, dim: 3, seed: 'split-view', colluders: 3 }).config;
    expect(() => planRound(cfg)).toThrow(/threshold 3 must exceed the 3 assumed colluders/);
    // With t > c a quorum always exists: q = n satisfies 2q > n + c.
    const most = testFederation({ n: 3, threshold: 3, dim: 3, mode: 'malicious', seed: 'split-view', colluders: 2 }).config;
    expect(planRound(most).minSurvivors).toBe(3);
  });
});
