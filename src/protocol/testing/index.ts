/**
 * fedveil/testing: fast-check arbitraries and a model-based harness for the secure-aggregation
 * protocol, so integrators can test their deployments and extensions the way fedveil tests itself.
 *
 * - Arbitraries: {@link roundSpecArb} (round shapes with a DP config that fits the modulus),
 *   {@link inputsArb}, {@link dropoutScheduleArb}, {@link messageOrderArb}, and corruptions of
 *   client and server messages ({@link clientMessageMutationArb}, {@link serverMessageMutationArb}).
 * - Model-based testing: {@link roundCommandsArb} and {@link runRoundModel} (fc.commands / fc.modelRun).
 * - Fixtures: {@link testFederation} (reproducible keys from a public seed — tests only) and
 *   {@link structuralTestProvider} (an INSECURE hash-based stand-in for X25519/Ed25519 that makes
 *   thousands of protocol runs affordable).
 *
 * @example
 * ```ts
 * import fc from 'fast-check';
 * import { roundSpecArb, inputsArb, roundCommandsArb, runRoundModel } from 'fedveil/testing';
 *
 * fc.assert(
 *   fc.property(
 *     roundSpecArb({ maxN: 6 }).chain((spec) => fc.tuple(fc.constant(spec), inputsArb(spec))),
 *     roundCommandsArb(40),
 *     ([spec, data], commands) => {
 *       runRoundModel(spec, data, commands); // throws on the first disagreement with the model
 *     },
 *   ),
 * );
 * ```
 *
 * @packageDocumentation
 */
export {
  roundSpecArb,
  graphArb,
  fitScale,
  federationOf,
  inputArb,
  inputsArb,
  dropoutScheduleArb,
  messageOrderArb,
  scheduleOutlook,
  clientMessageMutationArb,
  serverMessageMutationArb,
  mutateClientMessage,
  mutateServerMessage,
  type RoundSpec,
  type RoundSpecBounds,
  type ClientMessageMutation,
  type ServerMessageMutation,
} from './arbitraries.js';
export {
  roundCommandsArb,
  runRoundModel,
  setupRound,
  checkAgainstModel,
  type RoundModel,
  type RoundReal,
  type HarnessData,
} from './model.js';
export { testFederation, EXACT_DP, type TestFederation, type TestFederationOptions } from './fixtures.js';
export { structuralTestProvider } from './structural-provider.js';
