/**
 * fedveil/dp: clipping, the integer encoding pipeline and its decoder, noise samplers, privacy
 * events, the RDP accountant, calibration, and the privacy report with its verifier. Pure: no
 * I/O, no clocks; every random draw comes from an injected RandomSource.
 */
export * from './config.js';
export * from './pipeline.js';
export * from './events.js';
export { CohortMethodSchema, cohortAmplifies, maxCohortMembers, type CohortMethod } from './cohort.js';
export { clipL2InPlace, l2Norm } from './encoding/clip.js';
export { RandomizedHadamard, fwhtInPlace, nextPowerOfTwo, rotationSigns, ROTATION_SIGNS_INFO } from './encoding/hadamard.js';
export { DEFAULT_BETA, MAX_ROUNDING_ATTEMPTS, conditionalRoundInPlace, roundedL1NormBound, roundedL2NormBound } from './encoding/rounding.js';
export { centreModulo, wrapModulo } from './encoding/modular.js';
export { UniformStream } from './noise/uniform-stream.js';
export { POISSON_DEVIATION_MAX_MEAN, POISSON_MAX_MEAN, TABLE_MAX_MEAN, poissonDeviationSampler, poissonSampler, samplePoisson } from './noise/poisson.js';
export { addSkellamNoise, sampleSkellam, skellamNoiser, skellamSamples } from './noise/skellam.js';
export { DGAUSS_TABLE_MAX_SIGMA, addDiscreteGaussianNoise, discreteGaussianNoiser, discreteGaussianSampler, discreteGaussianSamples, sampleDiscreteGaussian } from './noise/discrete-gaussian.js';
export { addGaussianNoise, gaussianSamples } from './noise/gaussian.js';
export { DEFAULT_RDP_ORDERS, INTEGER_RDP_ORDERS } from './accountant/orders.js';
export { epsilonFromRdp, type ConversionOptions } from './accountant/conversion.js';
export { gaussianRdp, poissonGaussianRdp } from './accountant/gaussian-rdp.js';
export { distributedDiscreteGaussianRdp, skellamRdp, zhuWangSubsampledRdp } from './accountant/discrete-rdp.js';
export {
  WOR_FORWARD_DIFFERENCE_MAX_ORDER,
  gaussianForwardDifferences,
  gaussianWithoutReplacementRdp,
  logForwardDifferenceBounds,
  sampledWithoutReplacementRdp,
} from './accountant/wor-rdp.js';
export { RDP_ACCOUNTANT, checkDelta, containsDiscreteMechanism, defaultOrdersFor, rdpCurve, rdpEpsilon, type RdpEpsilonOptions } from './accountant/rdp.js';
export { PLD_CALIBRATION_DISCRETIZATION, calibrateConfigNoise, calibrateNoiseMultiplier, calibrationEpsilon, type AccountantKind } from './accountant/calibrate.js';
export {
  DEFAULT_VALUE_DISCRETIZATION,
  PLD_ACCOUNTANT,
  composePld,
  pldDelta,
  pldDeltaForEpsilon,
  pldEpsilon,
  pldEpsilonOf,
  pldOf,
  pldSupports,
  type Pld,
  type PldOptions,
} from './accountant/pld/accountant.js';
export { logAdd, logBinomial, logErfc, logGamma, logSumExp, erfc } from './special.js';
export {
  EmpiricalAuditSchema,
  NoiseAuditSchema,
  EVALUATION_NOISED,
  EVALUATION_NOT_NOISED,
  LEDGER_READER_ADVERSARY,
  LEDGER_READER_ADVERSARY_CENTRAL,
  MODEL_OBSERVER_ADVERSARY,
  PrivacyReportSchema,
  REPORT_FORMAT,
  REPORT_VERSION,
  RoundPrivacyEntrySchema,
  accountParticipants,
  accountRounds,
  addsNoise,
  buildReport,
  claimsAmplification,
  isCharged,
  ledgerReaderAdversary,
  ledgerReaderEpsilon,
  participantAccounts,
  participantEpsilon,
  ReportClippingSchema,
  reportEvaluation,
  reportOrders,
  roundEvents,
  type EmpiricalAudit,
  type NoiseAudit,
  type ParticipantAccount,
  type PrivacyReport,
  type ReportClipping,
  type ReportEvaluation,
  type ReportRound,
  type RoundAccounting,
  type RoundEvents,
  type RoundOutcome,
  type RoundPrivacyEntry,
} from './report.js';
export { eventsMatch, reportEntry, verifyReport, type Discrepancy, type ReportCheck, type VerifyReportOptions } from './verify-report.js';
export { cdfTableSampler } from './noise/cdf-table.js';
export {
  confidencePercent,
  cosine,
  estimateEmpiricalEpsilon,
  gaussianDelta,
  gaussianEpsilon,
  gaussianFit,
  randomUnitDirection,
  type EmpiricalEpsilon,
  type EmpiricalEpsilonOptions,
} from './audit/empirical-epsilon.js';
export { CANARY_DIRECTION_DOMAIN, canaryDirection, canaryUpdate } from './audit/canary.js';
export { CLIP_NORM_TOLERANCE, checkAdaptiveClipRule, nextClipNorm, sameClipNorm, type AdaptiveClipRule } from './adaptive-clip.js';
export {
  NOISE_PROBE_CONFIDENCE,
  chiSquareCdf,
  chiSquareQuantile,
  claimedProbeVariance,
  noiseProbeAudit,
  noiseProbeStatistic,
  regularizedGammaP,
  withNoiseProbes,
  type NoiseProbeStatistic,
  type ProbeSample,
  type ProbedRound,
} from './audit/noise-probe.js';
