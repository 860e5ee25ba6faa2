/**
 * fedveil: privacy-audited federated learning.
 *
 * The pure layers are re-exported here as namespaces. The TensorFlow.js trainer and the HTTP
 * coordinator load heavier dependencies, so they are imported from their own entry points:
 * `fedveil/trainer`, `fedveil/server`; the property-test harness from `fedveil/testing`.
 * @packageDocumentation
 */
export * as secagg from './secagg/index.js';
export * as dp from './dp/index.js';
export * as protocol from './protocol/index.js';
