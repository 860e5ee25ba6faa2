import {
  isCanonicalShareY,
  openShare,
  pairwiseMaskSeed,
  pairwiseMaskSign,
  prgAccumulate,
  selfMaskSeed,
  type MaskStream,
} from '../../secagg/index.js';
import { check, FedveilError } from '../../secagg/util/errors.js';
import { signMessage, vectorDigest } from '../canonical.js';
import { roundBinding } from '../config.js';
import { packVector } from '../wire/vector.js';
import type { MaskedInputMessage, ShareBundleMessage } from '../messages.js';
import { intersect, isSubset, sameSet } from '../sets.js';
import { clientHeader, type ClientContext, type MaskedState, type PeerKeys, type SharedState } from './context.js';

/**
 * Phase 2 (client): check U2 and my share bundle, open every share pair, then send
 * y_u = x_u ‖ extra + PRG(b_u) + Σ_{v ∈ N(u) ∩ U2} ±PRG(KDF(X25519(s_u, s_v))) mod 2^b.
 *
 * Refusals: `protocol/list-not-subset` (U2 ⊄ U1), `protocol/self-not-in-set`,
 * `protocol/list-below-threshold`, `protocol/neighbourhood-below-threshold` (fewer than t of my
 * share holders are in U2), `protocol/bundle-mismatch` (the bundle's senders are not exactly my
 * neighbours in U2), `protocol/bad-share-ciphertext` (a share pair that does not open for me),
 * `protocol/bad-share` (a share pair that opens but holds a share that is no field element).
 */
export function maskedInput(
  ctx: ClientContext,
  state: SharedState,
  msg: ShareBundleMessage,
): { state: MaskedState; message: MaskedInputMessage } {
  const { plan, index: me } = ctx;
  check(isSubset(msg.u2, state.u1), 'protocol/list-not-subset', 'U2 is not a subset of U1');
  check(msg.u2.includes(me), 'protocol/self-not-in-set', `U2 does not contain me (participant ${me})`);
  check(
    msg.u2.length >= plan.minSurvivors,
    'protocol/list-below-threshold',
    () => `U2 has ${msg.u2.length} participants, fewer than the quorum ${plan.minSurvivors}`,
  );
  const live = intersect(state.holders, msg.u2);
  check(
    live.length >= plan.threshold,
    'protocol/neighbourhood-below-threshold',
    () => `only ${live.length} of my share holders are in U2; my secrets need ${plan.threshold}`,
  );
  const expected = live.filter((v) => v !== me);
  const senders = msg.shares.map((s) => s.peer);
  check(
    sameSet(senders, expected),
    'protocol/bundle-mismatch',
    () => `share bundle comes from [${senders.join(',')}], expected my neighbours in U2 [${expected.join(',')}]`,
  );

  const held = new Map<number, { self: Uint8Array; mask: Uint8Array }>();
  held.set(me, state.ownShares);
  for (const s of msg.shares) {
    const key = state.shareKeys.get(s.peer) as Uint8Array;
    const binding = { federationId: plan.config.federationId, round: plan.config.round, sender: s.peer, recipient: me };
    let pair: Uint8Array;
    try {
      pair = openShare(key, binding, s.ciphertext);
    } catch (e) {
      const why = e instanceof FedveilError ? e.code : 'error';
      throw new FedveilError('protocol/bad-share-ciphertext', `share pair from participant ${s.peer} does not open for me (${why})`);
    }
    check(pair.length === 64, 'protocol/bad-share-ciphertext', () => `share pair from participant ${s.peer} has ${pair.length} bytes, expected 64`);
    const self = pair.slice(0, 32);
    const mask = pair.slice(32);
    // Caught here rather than by the server at unmask, where it would cost me my whole answer.
    check(
      isCanonicalShareY(self) && isCanonicalShareY(mask),
      'protocol/bad-share',
      () => `participant ${s.peer} dealt me a share of its ${isCanonicalShareY(self) ? 'masking-key' : 'self-mask'} seed that is not a field element (≥ 2^255 − 19)`,
    );
    held.set(s.peer, { self, mask });
  }

  const update = ctx.input();
  const encoding = plan.encoder.encode(update, ctx.rng);
  ctx.observeEncoding?.(encoding);
  const y = new Uint32Array(plan.vectorLength);
  y.set(encoding);
  y.set(ctx.extra, plan.encodedLength);
  const agree = ctx.provider.x25519Agreement(state.keys.maskingSecret);
  const masks: MaskStream[] = [{ seed: selfMaskSeed(state.selfSeed, plan.kdfContext), sign: 1 }];
  for (const v of expected) {
    const seed = pairwiseMaskSeed(agree, (state.peers.get(v) as PeerKeys).maskingKey, plan.kdfContext);
    masks.push({ seed, sign: pairwiseMaskSign(me, v) });
  }
  prgAccumulate(y, masks, plan.bits);
  const vector = packVector(y, plan.bits);
  const signed = signMessage<MaskedInputMessage>(ctx.provider, ctx.identitySecretKey, {
    type: 'masked-input',
    header: clientHeader(ctx, 'masked-input'),
    length: plan.vectorLength,
    bits: plan.bits,
    vectorSha256: vectorDigest(vector),
    vector,
  }, roundBinding(plan.config));
  return { state: { ...state, u2: [...msg.u2], held }, message: signed };
}
