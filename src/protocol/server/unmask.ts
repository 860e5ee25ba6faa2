import {
  isCanonicalShareY,
  pairwiseMaskSeed,
  pairwiseMaskSign,
  prgAccumulate,
  RobustBasis,
  selfMaskSeed,
  type CryptoProvider,
  type MaskStream,
  type RobustReconstruction,
} from '../../secagg/index.js';
import { bytesEqual } from '../../secagg/util/bytes.js';
import { check, FedveilError } from '../../secagg/util/errors.js';
import type { RoundPlan } from '../config.js';
import type { AdvertiseKeysMessage, UnmaskMessage } from '../messages.js';
import type { WrongShare } from '../results.js';
import { maskingSecretFromSeed, SECRET_BYTES, SECRET_VALUE_BYTES } from '../secrets.js';
import { intersect, sameSet, sortedIndices } from '../sets.js';
import type { PhaseCollector } from './collector.js';

/**
 * An unmask failure caused by revealed shares. `suspects` are the holders of the secret that could
 * not be rebuilt and its owner: the shares say that enough of them are wrong, not who made them so
 * (a holder revealing a wrong share and an owner dealing one look the same to the server).
 */
export class ShareFaultError extends FedveilError {
  constructor(
    code: string,
    message: string,
    readonly suspects: number[],
  ) {
    super(code, message);
  }
}

const SECRET_NAMES = { 'self-mask': 'self-mask seed', 'mask-key': 'masking-key seed' } as const;

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
    // A share that is no field element would only abort reconstruction later: refuse it on receipt,
    // so that the sender counts as not having answered and the others' shares still suffice.
    for (const [list, secret] of [
      [msg.selfMaskShares, 'self-mask'],
      [msg.maskKeyShares, 'mask-key'],
    ] as const) {
      for (const s of list) {
        check(
          isCanonicalShareY(s.share),
          'protocol/bad-share',
          () => `participant ${w} revealed a share of the ${SECRET_NAMES[secret]} of participant ${s.peer} that is not a field element (≥ 2^255 − 19)`,
        );
      }
    }
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
   * Rebuilds every needed secret from all its revealed shares (spec/secagg.md §5.1: up to
   * ⌊(r − t)/2⌋ wrong shares of a secret with r shares are found and excluded) and removes all
   * masks from `acc` in place; returns U4 and the excluded shares. Throws, before touching `acc`,
   * `protocol/unrecoverable-secret` when some secret has fewer than t shares, and a
   * {@link ShareFaultError} naming the secret's holders with `protocol/inconsistent-shares` (too
   * many wrong shares, or a self-mask seed that does not fit its 248 bits) or
   * `protocol/reconstruction-mismatch` (a rebuilt masking key is not the advertised one).
   */
  unmask(
    acc: Uint32Array,
    advertisements: ReadonlyMap<number, AdvertiseKeysMessage>,
    provider: CryptoProvider,
  ): { u4: number[]; wrongShares: WrongShare[] } {
    const { plan } = this;
    const t = plan.threshold;
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
    // Holders answer in any order; sort by x so equal holder sets share one basis. Only the last
    // basis is kept: on the complete graph every secret has the same holders, so it is reused for
    // all; on a SecAgg+ graph each owner's holders are its own neighbours, a basis (t·(r − t + 1)
    // field elements, ~30 kB at k = 53) is used once, and keeping them all held O(n·k·t) memory
    // (30 MB at n = 1000) until the sum was unmasked.
    let basisKey = '';
    let lastBasis: RobustBasis | null = null;
    const wrongShares: WrongShare[] = [];
    const rebuild = (owner: number, secret: WrongShare['secret'], valueBytes: number): { value: Uint8Array; suspects: number[] } => {
      const l = (secret === 'self-mask' ? this.selfShares : this.maskShares).get(owner) as ShareList;
      const order = l.xs.map((_, i) => i).sort((a, b) => (l.xs[a] as number) - (l.xs[b] as number));
      const xs = order.map((i) => l.xs[i] as number);
      const holders = xs.map((x) => x - 1);
      const suspects = sortedIndices(new Set([...holders, owner]));
      const key = xs.join(',');
      if (lastBasis === null || key !== basisKey) {
        lastBasis = new RobustBasis(xs, t);
        basisKey = key;
      }
      const basis = lastBasis;
      let r: RobustReconstruction;
      try {
        r = basis.reconstruct(
          order.map((i) => l.ys[i] as Uint8Array),
          valueBytes,
        );
      } catch (e) {
        if (!(e instanceof FedveilError) || (e.code !== 'shamir/too-many-wrong-shares' && e.code !== 'shamir/secret-out-of-range')) throw e;
        throw new ShareFaultError(
          'protocol/inconsistent-shares',
          `the ${xs.length} shares of the ${SECRET_NAMES[secret]} of participant ${owner} from holders [${holders.join(',')}] ` +
            `do not determine it: more than ${basis.correctable} of them are wrong (${e.message})`,
          suspects,
        );
      }
      for (const x of r.wrong) wrongShares.push({ holder: x - 1, owner, secret });
      const value = new Uint8Array(SECRET_BYTES);
      value.set(r.secret);
      return { value, suspects };
    };

    const maskingSecrets = new Map<number, Uint8Array>();
    for (const v of this.dropped) {
      // The advertised key checks the whole seed, so no range check here.
      const { value, suspects } = rebuild(v, 'mask-key', SECRET_BYTES);
      const secret = maskingSecretFromSeed(value);
      const advertised = (advertisements.get(v) as AdvertiseKeysMessage).maskingKey;
      if (!bytesEqual(provider.x25519PublicKey(secret), advertised)) {
        const r = countOf(this.maskShares, v);
        throw new ShareFaultError(
          'protocol/reconstruction-mismatch',
          `the rebuilt masking key of participant ${v} does not match its advertised key: more than ` +
            `${Math.floor((r - t) / 2)} of its ${r} revealed shares are wrong, or it dealt shares of another seed ` +
            `(suspects [${suspects.join(',')}])`,
          suspects,
        );
      }
      maskingSecrets.set(v, secret);
    }
    // Self-mask seeds have no public key to check against; their zero top byte is the check.
    const selfSeeds = this.u3.map((u) => rebuild(u, 'self-mask', SECRET_VALUE_BYTES).value);
    const masks: MaskStream[] = selfSeeds.map((b) => ({ seed: selfMaskSeed(b, plan.kdfContext), sign: -1 as const }));
    for (const v of this.dropped) {
      const agree = provider.x25519Agreement(maskingSecrets.get(v) as Uint8Array);
      for (const u of intersect(plan.neighbourhood(v), this.u3)) {
        const peerKey = (advertisements.get(u) as AdvertiseKeysMessage).maskingKey;
        // u added pairwiseMaskSign(u, v) · PRG(seed); subtract exactly that.
        masks.push({ seed: pairwiseMaskSeed(agree, peerKey, plan.kdfContext), sign: pairwiseMaskSign(u, v) === 1 ? -1 : 1 });
      }
    }
    prgAccumulate(acc, masks, plan.bits);
    wrongShares.sort((a, b) => a.holder - b.holder || a.owner - b.owner);
    return { u4: sortedIndices(this.submitted), wrongShares };
  }
}

function push(map: Map<number, ShareList>, owner: number, x: number, y: Uint8Array): void {
  let l = map.get(owner);
  if (!l) map.set(owner, (l = { xs: [], ys: [] }));
  l.xs.push(x);
  l.ys.push(y);
}
