import {
  LagrangeBasis,
  pairwiseMaskSeed,
  pairwiseMaskSign,
  prgAccumulate,
  selfMaskSeed,
  type CryptoProvider,
  type MaskStream,
} from '../../secagg/index.js';
import { bytesEqual } from '../../secagg/util/bytes.js';
import { check } from '../../secagg/util/errors.js';
import type { RoundPlan } from '../config.js';
import type { AdvertiseKeysMessage, UnmaskMessage } from '../messages.js';
import { maskingSecretFromSeed, SECRET_BYTES } from '../secrets.js';
import { intersect, sameSet, sortedIndices } from '../sets.js';
import type { PhaseCollector } from './collector.js';

/** Shares of one secret received so far: x = holder + 1, y = 32 bytes. */
interface ShareList {
  xs: number[];
  ys: Uint8Array[];
}

/**
 * Phase 4 (server): collect revealed shares — b-shares of U3, mask-key shares of U2 ∖ U3 — then
 * rebuild the secrets and strip the masks from the accumulator: −PRG(b_u) for each survivor, and
 * for each dropped v the pairwise masks its surviving neighbours added. Storage O(n·k).
 */
export class UnmaskCollector implements PhaseCollector<UnmaskMessage> {
  readonly phase = 'unmask' as const;
  readonly submitted = new Set<number>();
  private readonly selfShares = new Map<number, ShareList>();
  private readonly maskShares = new Map<number, ShareList>();

  /**
   * @param expected who is asked to unmask (U3, or the consistency signers in malicious mode)
   * @param u3 the contributors
   * @param dropped U2 ∖ U3
   */
  constructor(
    private readonly plan: RoundPlan,
    readonly expected: readonly number[],
    private readonly u3: readonly number[],
    private readonly dropped: readonly number[],
  ) {}

  prepare(msg: UnmaskMessage): () => void {
    const w = msg.header.sender;
    const hood = this.plan.neighbourhood(w);
    const wantSelf = intersect(hood, this.u3);
    const wantMask = intersect(hood, this.dropped);
    const gotSelf = msg.selfMaskShares.map((s) => s.peer);
    const gotMask = msg.maskKeyShares.map((s) => s.peer);
    check(
      sameSet(gotSelf, wantSelf) && sameSet(gotMask, wantMask),
      'protocol/unmask-shares-mismatch',
      () =>
        `participant ${w} revealed self-mask shares of [${gotSelf.join(',')}] and mask-key shares of [${gotMask.join(',')}], ` +
        `expected [${wantSelf.join(',')}] and [${wantMask.join(',')}]`,
    );
    return () => {
      for (const s of msg.selfMaskShares) push(this.selfShares, s.peer, w + 1, s.share);
      for (const s of msg.maskKeyShares) push(this.maskShares, s.peer, w + 1, s.share);
      this.submitted.add(w);
    };
  }

  /** Bytes of shares held. */
  retainedBytes(): number {
    let total = 0;
    for (const m of [this.selfShares, this.maskShares]) for (const l of m.values()) total += l.ys.length * (32 + 8);
    return total;
  }

  /**
   * Rebuilds every needed secret from the first t shares (in holder order) and removes all masks
   * from `acc` in place. Throws `protocol/unrecoverable-secret` when some secret has fewer than t
   * shares, `protocol/reconstruction-mismatch` when a rebuilt masking key does not match the
   * advertised one (a holder sent a wrong share).
   */
  unmask(acc: Uint32Array, advertisements: ReadonlyMap<number, AdvertiseKeysMessage>, provider: CryptoProvider): number[] {
    const { plan } = this;
    const t = plan.threshold;
    const bases = new Map<string, LagrangeBasis>();
    const countOf = (m: Map<number, ShareList>, owner: number): number => m.get(owner)?.xs.length ?? 0;
    // Check every secret is recoverable before touching the accumulator.
    for (const [owners, shares, what] of [
      [this.u3, this.selfShares, 'self-mask seed'],
      [this.dropped, this.maskShares, 'masking key'],
    ] as const) {
      for (const u of owners) {
        check(
          countOf(shares, u) >= t,
          'protocol/unrecoverable-secret',
          () => `only ${countOf(shares, u)} shares of the ${what} of participant ${u} arrived; ${t} are needed`,
        );
      }
    }
    const combine = (l: ShareList): Uint8Array => {
      // Holders answer in any order; take the t smallest x so equal holder sets share one basis.
      const order = l.xs.map((_, i) => i).sort((a, b) => (l.xs[a] as number) - (l.xs[b] as number)).slice(0, t);
      const xs = order.map((i) => l.xs[i] as number);
      const key = xs.join(',');
      let basis = bases.get(key);
      if (!basis) bases.set(key, (basis = new LagrangeBasis(xs)));
      return basis.combine(order.map((i) => l.ys[i] as Uint8Array), SECRET_BYTES);
    };

    const maskingSecrets = new Map<number, Uint8Array>();
    for (const v of this.dropped) {
      const secret = maskingSecretFromSeed(combine(this.maskShares.get(v) as ShareList));
      const advertised = (advertisements.get(v) as AdvertiseKeysMessage).maskingKey;
      check(
        bytesEqual(provider.x25519PublicKey(secret), advertised),
        'protocol/reconstruction-mismatch',
        () => `the rebuilt masking key of participant ${v} does not match its advertised key: a holder revealed a wrong share`,
      );
      maskingSecrets.set(v, secret);
    }
    const masks: MaskStream[] = [];
    for (const u of this.u3) {
      const b = combine(this.selfShares.get(u) as ShareList);
      masks.push({ seed: selfMaskSeed(b, plan.kdfContext), sign: -1 });
    }
    for (const v of this.dropped) {
      const agree = provider.x25519Agreement(maskingSecrets.get(v) as Uint8Array);
      for (const u of intersect(plan.neighbourhood(v), this.u3)) {
        const peerKey = (advertisements.get(u) as AdvertiseKeysMessage).maskingKey;
        // u added pairwiseMaskSign(u, v) · PRG(seed); subtract exactly that.
        masks.push({ seed: pairwiseMaskSeed(agree, peerKey, plan.kdfContext), sign: pairwiseMaskSign(u, v) === 1 ? -1 : 1 });
      }
    }
    prgAccumulate(acc, masks, plan.bits);
    return sortedIndices(this.submitted);
  }
}

function push(map: Map<number, ShareList>, owner: number, x: number, y: Uint8Array): void {
  let l = map.get(owner);
  if (!l) map.set(owner, (l = { xs: [], ys: [] }));
  l.xs.push(x);
  l.ys.push(y);
}
