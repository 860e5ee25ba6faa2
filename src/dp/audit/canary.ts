import { check } from '../../secagg/util/errors.js';
import { seededRandom } from '../../secagg/util/random.js';
import { randomUnitDirection } from './empirical-epsilon.js';

/** Domain of the stream a canary's direction is drawn from. */
export const CANARY_DIRECTION_DOMAIN = 'fedveil/canary-direction/v1';

/**
 * The unit direction of the canary whose secret is `secret` (>= 16 bytes): uniform on the sphere
 * of dimension `dim`, drawn from SHA-256(domain ‖ secret ‖ counter). Whoever holds the secret can
 * recompute it; before the secret is revealed, nobody can steer the model towards or away from it.
 */
export function canaryDirection(secret: Uint8Array, dim: number): Float64Array {
  check(secret.length >= 16, 'dp/bad-audit', `a canary secret needs at least 16 bytes, got ${secret.length}`);
  const seed = new Uint8Array(CANARY_DIRECTION_DOMAIN.length + 1 + secret.length);
  seed.set(new TextEncoder().encode(CANARY_DIRECTION_DOMAIN), 0);
  seed.set(secret, CANARY_DIRECTION_DOMAIN.length + 1);
  return randomUnitDirection(dim, seededRandom(seed));
}

/** A canary's model update: its direction scaled to the clip norm C, the largest update the clip lets through unchanged. */
export function canaryUpdate(secret: Uint8Array, dim: number, clipNorm: number): Float32Array {
  check(Number.isFinite(clipNorm) && clipNorm > 0, 'dp/bad-audit', `clip norm must be > 0, got ${clipNorm}`);
  const u = canaryDirection(secret, dim);
  const out = new Float32Array(dim);
  // Float32 rounding could push the norm a hair above C and get the update clipped: stay a hair under.
  const scale = clipNorm * (1 - 1e-6);
  for (let i = 0; i < dim; i++) out[i] = (u[i] as number) * scale;
  return out;
}
