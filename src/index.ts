/**
 * fedveil: privacy-audited federated learning.
 *
 * The library is layered; each layer is also importable on its own (`fedveil/secagg`,
 * `fedveil/dp`, …). See README.md for the layout.
 */
export {};
