import { check } from '../../secagg/util/errors.js';
import { consistencySignedBytesOver, signMessage } from '../canonical.js';
import { roundBinding } from '../config.js';
import type { RevealedShare, UnmaskMessage, UnmaskRequestMessage } from '../messages.js';
import { difference, intersect, isSubset, sameSet } from '../sets.js';
import { checkU3 } from './consistency-check.js';
import { clientHeader, type CheckedState, type ClientContext, type MaskedState } from './context.js';

/** Which of a peer's two secrets I revealed a share of. */
export type RevealedKind = 'self-mask' | 'mask-key';

/**
 * Phase 4 (client): for each peer v whose shares I hold, reveal my share of b_v if v ∈ U3 or of
 * v's masking seed if v ∈ U2 ∖ U3 — never both, whatever the server asks.
 *
 * Refusals: `protocol/live-client-claimed-dropped` (I am listed as dropped although I sent my
 * masked input), `protocol/peer-in-two-lists` (a peer both in U3 and dropped),
 * `protocol/list-not-subset`, `protocol/inconsistent-lists` (U3 ∪ dropped ≠ U2),
 * `protocol/self-not-in-set`, `protocol/list-below-threshold`; in malicious mode also
 * `protocol/list-changed` (not the U3 I signed), `protocol/bad-signature` (a consistency
 * signature that does not verify) and `protocol/consistency-below-threshold` (fewer than the
 * quorum signed this U3).
 */
export function unmask(
  ctx: ClientContext,
  state: MaskedState | CheckedState,
  msg: UnmaskRequestMessage,
): { revealed: Map<number, RevealedKind>; message: UnmaskMessage } {
  const { plan, index: me } = ctx;
  check(!msg.dropped.includes(me), 'protocol/live-client-claimed-dropped', `the server lists me (participant ${me}) as dropped, but I sent my masked input`);
  const both = intersect(msg.u3, msg.dropped);
  check(both.length === 0, 'protocol/peer-in-two-lists', () => `participants [${both.join(',')}] are listed both in U3 and as dropped`);
  check(isSubset(msg.dropped, state.u2), 'protocol/list-not-subset', 'the dropped list is not a subset of U2');
  checkU3(ctx, state, msg.u3);
  check(
    sameSet(difference(state.u2, msg.u3), msg.dropped),
    'protocol/inconsistent-lists',
    'U3 and the dropped list do not partition U2',
  );
  if (plan.config.mode === 'malicious') checkConsistencySignatures(ctx, state as CheckedState, msg);

  const revealed = new Map<number, RevealedKind>();
  const selfMaskShares: RevealedShare[] = [];
  const maskKeyShares: RevealedShare[] = [];
  const inU3 = new Set(msg.u3);
  for (const v of [...state.held.keys()].sort((a, b) => a - b)) {
    const pair = state.held.get(v) as { self: Uint8Array; mask: Uint8Array };
    if (inU3.has(v)) {
      selfMaskShares.push({ peer: v, share: pair.self });
      revealed.set(v, 'self-mask');
    } else {
      maskKeyShares.push({ peer: v, share: pair.mask });
      revealed.set(v, 'mask-key');
    }
  }
  const message = signMessage<UnmaskMessage>(ctx.provider, ctx.identitySecretKey, {
    type: 'unmask',
    header: clientHeader(ctx, 'unmask'),
    selfMaskShares,
    maskKeyShares,
  }, roundBinding(plan.config));
  return { revealed, message };
}

/**
 * The U3 must be the one I signed and carry valid consistency signatures of at least the quorum.
 * Signatures are checked in signer order and checking stops at the quorum: a client needs proof
 * that enough peers saw this U3, not a check of every signature (which would cost O(n) per client).
 */
function checkConsistencySignatures(ctx: ClientContext, state: CheckedState, msg: UnmaskRequestMessage): void {
  const { plan } = ctx;
  check(sameSet(msg.u3, state.signedU3), 'protocol/list-changed', 'U3 differs from the U3 I signed in the consistency check');
  const inU3 = new Set(msg.u3);
  const header = { version: msg.header.version, federationId: plan.config.federationId, round: plan.config.round };
  const signedBytes = consistencySignedBytesOver(header, msg.u3, roundBinding(plan.config));
  let valid = 0;
  for (const { signer, signature } of msg.signatures) {
    if (valid >= plan.minSurvivors) break;
    check(inU3.has(signer), 'protocol/bad-signature', () => `consistency signature from participant ${signer}, who is not in U3`);
    const ok = ctx.provider.ed25519Verify(
      plan.config.participants[signer] as Uint8Array,
      signedBytes(signer),
      signature,
    );
    check(ok, 'protocol/bad-signature', () => `consistency signature of participant ${signer} does not verify over this U3`);
    valid++;
  }
  check(
    valid >= plan.minSurvivors,
    'protocol/consistency-below-threshold',
    () => `U3 carries ${valid} consistency signatures; at least ${plan.minSurvivors} are needed`,
  );
}
