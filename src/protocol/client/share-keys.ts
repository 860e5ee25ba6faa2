import { sealShare, shamirSplit, shareKey } from '../../secagg/index.js';
import { bytesEqual, concatBytes, toHex } from '../../secagg/util/bytes.js';
import { check } from '../../secagg/util/errors.js';
import { signMessage, verifyMessage } from '../canonical.js';
import { checkClientHeader } from '../checks.js';
import { roundBinding } from '../config.js';
import type { EncryptedShare, KeyListMessage, ShareKeysMessage } from '../messages.js';
import { intersect, sameSet } from '../sets.js';
import { freshSecret } from '../secrets.js';
import { clientHeader, type ClientContext, type PeerKeys, type RoundKeys, type SharedState } from './context.js';

/**
 * Phase 1 (client): check the key list U1, then Shamir-share b_u and the seed of s_u t-of-k among
 * my neighbourhood in U1 (me included) and seal each peer's pair of shares for it alone.
 *
 * Refusals (the server's list is not acceptable): `protocol/self-not-in-set`,
 * `protocol/list-below-threshold`, `protocol/key-list-mismatch` (the advertisements are not
 * exactly my neighbourhood in U1), `protocol/wrong-*` or `protocol/bad-signature` (an
 * advertisement not signed by its owner for this round), `protocol/key-list-changed` (my own keys
 * were replaced), `protocol/duplicate-key` (one key in two places of the list),
 * `protocol/neighbourhood-below-threshold`. Indices ≥ n were refused before (ClientRound).
 */
export function shareKeys(
  ctx: ClientContext,
  keys: RoundKeys,
  msg: KeyListMessage,
): { state: SharedState; message: ShareKeysMessage } {
  const { plan, index: me } = ctx;
  check(msg.u1.includes(me), 'protocol/self-not-in-set', `U1 does not contain me (participant ${me})`);
  check(
    msg.u1.length >= plan.minSurvivors,
    'protocol/list-below-threshold',
    () => `U1 has ${msg.u1.length} participants, fewer than the quorum ${plan.minSurvivors}`,
  );
  const holders = intersect(plan.neighbourhood(me), msg.u1);
  const senders = msg.advertisements.map((a) => a.header.sender);
  check(
    sameSet(senders, holders),
    'protocol/key-list-mismatch',
    () => `key list carries advertisements of [${senders.join(',')}], expected my neighbourhood in U1 [${holders.join(',')}]`,
  );
  const peers = new Map<number, PeerKeys>();
  for (const ad of msg.advertisements) {
    checkClientHeader(plan, ad.header, 'advertise-keys');
    const owner = ad.header.sender;
    check(
      verifyMessage(ctx.provider, plan.config.participants[owner] as Uint8Array, ad, roundBinding(plan.config)),
      'protocol/bad-signature',
      () => `advertisement of participant ${owner} is not signed by its long-term key`,
    );
    peers.set(owner, { encryptionKey: ad.encryptionKey, maskingKey: ad.maskingKey });
  }
  const mine = peers.get(me) as PeerKeys;
  check(
    bytesEqual(mine.encryptionKey, keys.encryptionKey) && bytesEqual(mine.maskingKey, keys.maskingKey),
    'protocol/key-list-changed',
    'the key list carries keys for me that I did not advertise',
  );
  checkDistinctKeys(msg, me);
  check(
    holders.length >= plan.threshold,
    'protocol/neighbourhood-below-threshold',
    () => `only ${holders.length} of my neighbourhood advertised keys; my secrets need ${plan.threshold} holders`,
  );

  const selfSeed = freshSecret(ctx.rng);
  const xs = holders.map((i) => i + 1);
  const selfShares = shamirSplit(selfSeed, plan.threshold, xs, ctx.rng);
  const maskShares = shamirSplit(keys.maskingSeed, plan.threshold, xs, ctx.rng);
  const shares: EncryptedShare[] = [];
  const shareKeys = new Map<number, Uint8Array>();
  let ownShares: SharedState['ownShares'] | undefined;
  const agree = ctx.provider.x25519Agreement(keys.encryptionSecret);
  holders.forEach((v, j) => {
    const pair = concatBytes((selfShares[j] as { y: Uint8Array }).y, (maskShares[j] as { y: Uint8Array }).y);
    if (v === me) {
      ownShares = { self: pair.slice(0, 32), mask: pair.slice(32) };
      return;
    }
    const key = shareKey(agree, (peers.get(v) as PeerKeys).encryptionKey, plan.kdfContext);
    shareKeys.set(v, key);
    const binding = { federationId: plan.config.federationId, round: plan.config.round, sender: me, recipient: v };
    shares.push({ peer: v, ciphertext: sealShare(key, binding, pair, ctx.rng) });
  });
  const message = signMessage<ShareKeysMessage>(ctx.provider, ctx.identitySecretKey, {
    type: 'share-keys',
    header: clientHeader(ctx, 'share-keys'),
    shares,
  }, roundBinding(plan.config));
  return {
    state: { keys, u1: [...msg.u1], holders, peers, shareKeys, selfSeed, ownShares: ownShares as SharedState['ownShares'] },
    message,
  };
}

/**
 * Throws `protocol/duplicate-key` when two places of the key list (two advertisements, or the two
 * keys of one) carry the same key. My own entry holds my keys (checked before), so this also
 * refuses another participant's entry that carries one of my keys. A participant that
 * re-advertises a neighbour's masking key would make my pairwise masks with the two of them cancel,
 * leaving my input under the self mask alone, which unmasking removes.
 */
function checkDistinctKeys(msg: KeyListMessage, me: number): void {
  const seen = new Map<string, string>();
  for (const ad of msg.advertisements) {
    const owner = ad.header.sender;
    const who = owner === me ? 'my' : `participant ${owner}'s`;
    for (const [what, key] of [['encryption', ad.encryptionKey], ['masking', ad.maskingKey]] as const) {
      const hex = toHex(key);
      const place = `${who} ${what} key`;
      const first = seen.get(hex);
      check(first === undefined, 'protocol/duplicate-key', () => `the key list carries one key as ${first} and as ${place}`);
      seen.set(hex, place);
    }
  }
}
