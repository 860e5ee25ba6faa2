import { signMessage } from '../canonical.js';
import { roundBinding } from '../config.js';
import type { AdvertiseKeysMessage } from '../messages.js';
import { maskingSecretFromSeed, freshSecret } from '../secrets.js';
import { clientHeader, type ClientContext, type RoundKeys } from './context.js';

/**
 * Phase 0 (client): draw fresh X25519 pairs c_u (share encryption) and s_u (masking; its secret
 * derived from a seed that will be Shamir-shared) and sign their public halves.
 */
export function advertiseKeys(ctx: ClientContext): { keys: RoundKeys; message: AdvertiseKeysMessage } {
  const enc = ctx.provider.x25519Keygen(ctx.rng);
  const maskingSeed = freshSecret(ctx.rng);
  const maskingSecret = maskingSecretFromSeed(maskingSeed);
  const keys: RoundKeys = {
    encryptionSecret: enc.secretKey,
    encryptionKey: enc.publicKey,
    maskingSeed,
    maskingSecret,
    maskingKey: ctx.provider.x25519PublicKey(maskingSecret),
  };
  const message = signMessage<AdvertiseKeysMessage>(ctx.provider, ctx.identitySecretKey, {
    type: 'advertise-keys',
    header: clientHeader(ctx, 'advertise-keys'),
    encryptionKey: keys.encryptionKey,
    maskingKey: keys.maskingKey,
  }, roundBinding(ctx.plan.config));
  return { keys, message };
}
