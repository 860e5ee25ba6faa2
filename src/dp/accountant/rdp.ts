import { FedveilError, check } from '../../secagg/util/errors.js';
import type { DpEvent } from '../events.js';
import { epsilonFromRdp, type ConversionOptions } from './conversion.js';
import { distributedDiscreteGaussianRdp, skellamRdp, zhuWangSubsampledRdp } from './discrete-rdp.js';
import { gaussianRdp, poissonGaussianRdp } from './gaussian-rdp.js';
import { DEFAULT_RDP_ORDERS, INTEGER_RDP_ORDERS } from './orders.js';
import { gaussianForwardDifferences, gaussianWithoutReplacementRdp, sampledWithoutReplacementRdp } from './wor-rdp.js';

/** Name and version of this accountant, recorded in privacy reports. */
export const RDP_ACCOUNTANT = { name: 'fedveil-rdp', version: '1' } as const;

/** True when the event tree contains a Skellam or distributed discrete Gaussian mechanism. */
export function containsDiscreteMechanism(event: DpEvent): boolean {
  switch (event.kind) {
    case 'skellam':
    case 'distributed_discrete_gaussian':
      return true;
    case 'poisson_sampled':
    case 'sampled_without_replacement':
    case 'self_composed':
      return containsDiscreteMechanism(event.event);
    case 'composed':
      return event.events.some(containsDiscreteMechanism);
    default:
      return false;
  }
}

/**
 * The orders an event is accounted on by default: dp_accounting's DEFAULT_RDP_ORDERS, or the
 * integer orders 2..128, 256 when it contains a Skellam / distributed discrete Gaussian mechanism.
 */
export function defaultOrdersFor(event: DpEvent): readonly number[] {
  return containsDiscreteMechanism(event) ? INTEGER_RDP_ORDERS : DEFAULT_RDP_ORDERS;
}

/** RDP of an unsampled base mechanism at one order. */
function baseRdpAt(event: DpEvent, alpha: number): number {
  switch (event.kind) {
    case 'gaussian':
      return gaussianRdp(event.noiseMultiplier, alpha);
    case 'skellam':
      return skellamRdp(event.mu, event.l1Sensitivity, event.l2Sensitivity, alpha);
    case 'distributed_discrete_gaussian':
      return distributedDiscreteGaussianRdp(event.localStddev, event.contributors, event.l1Sensitivity, event.l2Sensitivity, event.dim, alpha);
    case 'no_op':
      return 0;
    case 'non_private':
      return Infinity;
    default:
      throw new FedveilError('dp/unsupported-event', `the RDP accountant cannot subsample a '${event.kind}' event`);
  }
}

/**
 * The RDP curve of `event` on `orders` (RDP is additive under composition):
 * Gaussian and Poisson-subsampled Gaussian exactly as dp_accounting's RdpAccountant; Skellam and
 * distributed discrete Gaussian from their papers, Poisson-subsampled by the minimum of the
 * Zhu–Wang bound and the unsampled RDP. Sampling without replacement (replace-one adjacency, the
 * inner event's sensitivities already stated under it): the Wang–Balle–Kasiviswanathan Theorem 9
 * bound — for a Gaussian as dp_accounting computes it (with its forward-difference refinement), for
 * Skellam and DDG the generic bound on their RDP curves, capped by the unsampled RDP.
 */
export function rdpCurve(event: DpEvent, orders: readonly number[]): Float64Array {
  const out = new Float64Array(orders.length);
  switch (event.kind) {
    case 'gaussian':
    case 'skellam':
    case 'distributed_discrete_gaussian':
    case 'no_op':
    case 'non_private':
      orders.forEach((a, i) => (out[i] = baseRdpAt(event, a)));
      return out;
    case 'poisson_sampled': {
      const q = event.samplingProbability;
      const inner = event.event;
      if (inner.kind === 'gaussian') {
        orders.forEach((a, i) => (out[i] = poissonGaussianRdp(q, inner.noiseMultiplier, a)));
        return out;
      }
      if (inner.kind === 'no_op' || q === 0) return out;
      if (inner.kind === 'non_private') return out.fill(Infinity);
      const eps = (a: number): number => baseRdpAt(inner, a);
      orders.forEach((a, i) => {
        const unsampled = eps(a);
        out[i] = q === 1 ? unsampled : Math.min(zhuWangSubsampledRdp(a, q, eps), unsampled);
      });
      return out;
    }
    case 'sampled_without_replacement': {
      const q = event.sampleSize / event.populationSize;
      const inner = event.event;
      if (inner.kind === 'no_op' || q === 0) return out;
      if (inner.kind === 'non_private') return out.fill(Infinity);
      if (inner.kind === 'gaussian') {
        const forward = q === 1 || inner.noiseMultiplier === 0 ? undefined : gaussianForwardDifferences(inner.noiseMultiplier);
        orders.forEach((a, i) => (out[i] = gaussianWithoutReplacementRdp(q, inner.noiseMultiplier, a, forward)));
        return out;
      }
      const eps = (a: number): number => baseRdpAt(inner, a);
      orders.forEach((a, i) => (out[i] = Math.min(sampledWithoutReplacementRdp(a, q, eps), eps(a))));
      return out;
    }
    case 'self_composed': {
      if (event.count === 0) return out;
      const inner = rdpCurve(event.event, orders);
      for (let i = 0; i < out.length; i++) out[i] = (inner[i] as number) * event.count;
      return out;
    }
    case 'composed':
      for (const e of event.events) {
        const c = rdpCurve(e, orders);
        for (let i = 0; i < out.length; i++) out[i] = (out[i] as number) + (c[i] as number);
      }
      return out;
  }
}

/** Options of {@link rdpEpsilon}. */
export interface RdpEpsilonOptions extends ConversionOptions {
  /** RDP orders; default {@link defaultOrdersFor}(event). */
  orders?: readonly number[];
}

/** Throws FedveilError('dp/bad-delta') unless 0 < delta < 1. */
export function checkDelta(delta: number): void {
  check(Number.isFinite(delta) && delta > 0 && delta < 1, 'dp/bad-delta', `delta must be in (0, 1), got ${delta}`);
}

/**
 * (ε, optimal order) of `event` at `delta` with the RDP accountant. ε is +∞ for a non-private
 * event. For events with a Skellam / distributed discrete Gaussian mechanism the defaults follow
 * their reference code (integer orders, inclusive KL branch); otherwise dp_accounting's.
 */
export function rdpEpsilon(event: DpEvent, delta: number, options: RdpEpsilonOptions = {}): { epsilon: number; order: number } {
  checkDelta(delta);
  const discrete = containsDiscreteMechanism(event);
  const orders = options.orders ?? (discrete ? INTEGER_RDP_ORDERS : DEFAULT_RDP_ORDERS);
  return epsilonFromRdp(orders, rdpCurve(event, orders), delta, { klInclusive: options.klInclusive ?? discrete });
}
