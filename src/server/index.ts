/**
 * fedveil/server: the coordinator (Express 5 over the protocol's ServerRound), its durable
 * state (CoordinatorStore, SQLite by default), the signed hash-chained privacy ledger with its
 * verifier and export, and the participant's HTTP client.
 *
 * In-process use (what `fedveil simulate` does):
 * ```ts
 * const running = await startCoordinator({ config: parseFederationConfig(obj), initialModel });
 * const client = new Participant({ coordinator: running.url, identity, train });
 * await Promise.all([client.run(), running.coordinator.finished]);
 * const paths = await running.exportAudit(outDir); // ledger.jsonl, coordinator-key.json, report.json
 * await running.close();
 * ```
 * @packageDocumentation
 */
export {
  FederationConfigSchema,
  formatZodError,
  loadFederationConfig,
  parseFederationConfig,
  phasesFor,
  resolveConfigPaths,
  type FederationConfig,
  type FederationConfigInput,
  type PhaseName,
} from './config.js';
export { canonicalJson } from './canonical-json.js';
export {
  DataSchemaSchema,
  federatedStandardization,
  type DataSchema,
  type DataSchemaInput,
  type FederatedStandardizationSpec,
  type FixedStandardization,
} from './data-schema.js';
export {
  localMoments,
  releasedMoments,
  standardizationOf,
  standardizedRows,
  standardizedSchema,
  statisticsInput,
  statisticsNoiseStd,
  statisticsRounds,
  statisticsSpec,
  type UnitMoments,
} from './federated-statistics.js';
export { BUILTIN_MODELS, resolveFederationModel, type ModelIssue, type ResolvedModel } from './federation-model.js';
export { JoinRegistry, registerJoinRoutes, sessionLeaseMs, type JoinRegistryOptions } from './join.js';
export { joinFederation, newSessionToken } from './join-client.js';
export { backoffDelay, describeNetworkError, formatDuration, isTlsFailure, parseDuration } from './retry.js';
export { fetchTrusting, readCaFile, readTlsFiles } from './tls.js';
export { drawCohort, type CohortDraw } from './cohort.js';
export { federationDpConfig, federationSamplingRate, maxCohortSize, roundGraph } from './federation-plan.js';
export {
  ZERO_HASH,
  LEDGER_SIGNATURE_DOMAIN,
  LEDGER_VERSION,
  NEIGHBOURING_RELATION,
  GenesisBodySchema,
  RoundBodySchema,
  AbortedAfterUnmaskBodySchema,
  StatisticsBodySchema,
  LedgerEntrySchema,
  chainLedgerEntry,
  chargedEntries,
  entryEvent,
  isCharged,
  ledgerEntryHash,
  ledgerLine,
  ledgerSignatureMessage,
  signLedgerEntry,
  type ChargedEntry,
  type GenesisEntry,
  type LedgerEntry,
  type LedgerEntryBody,
  type LedgerRecord,
  type RoundEntry,
  type StatisticsEntry,
} from './ledger-entry.js';
export { OPERATIONAL_CONFIG_FIELDS, configHash, genesisProblems, genesisRecord, genesisSamplingRate, privacyConfig } from './ledger-genesis.js';
export { ROUND_BINDING_DOMAIN, roundBinding, roundBindingHex, type BoundDraw, type LedgerHeadRef, type RoundBindingInput } from './round-binding.js';
export {
  drawProblems,
  entryBinding,
  entryRoundConfig,
  ledgerGenesis,
  verifyLedger,
  type LedgerDiscrepancy,
  type VerifyLedgerOptions,
} from './ledger-verify.js';
export {
  LEDGER_HEAD_DOMAIN,
  LedgerHeadSchema,
  ReceiptSchema,
  checkReceipts,
  ledgerHeadMessage,
  signLedgerHead,
  verifyLedgerHead,
  type LedgerHead,
  type Receipt,
  type ReceiptDiscrepancy,
} from './ledger-head.js';
export { ReceiptStore, defaultReceiptsDir, readReceipts } from './receipt-store.js';
export { participantEpsilon } from './participant-budget.js';
export { checkLedgerBeforeRound, type LedgerCheck, type LedgerCheckInput, type RoundAnnouncement } from './participant-ledger-check.js';
export { buildPrivacyReport, exportLedger, type LedgerExport } from './report.js';
export { ledgerReportCheck, readCoordinatorKey, readLedgerBundle, readLedgerFile, type LedgerBundle } from './ledger-audit.js';
export type { CoordinatorStore, RoundRecord, RoundStatus, StoredModel } from './store.js';
export { SqliteCoordinatorStore, modelHash } from './sqlite-store.js';
export { PostgresCoordinatorStore, type PostgresStoreOptions } from './postgres-store.js';
export { LeaderLock, type LeaderLockOptions } from './leader-lock.js';
export { openConfiguredStore, type OpenedStore, type OpenStoreOptions } from './store-open.js';
export { IdentityFileSchema, generateIdentity, readIdentityFile, writeIdentityFile, type IdentityFile } from './identity.js';
export {
  NONCE_HEADER,
  REQUEST_SIGNATURE_DOMAIN,
  SENDER_HEADER,
  SIGNATURE_HEADER,
  bodyHash,
  requestSigningBytes,
  signRequest,
  type RequestBinding,
} from './request-auth.js';
export { HTTP_ERRORS, HttpError, errorMiddleware, type HttpErrorBody, type HttpErrorCode } from './http-errors.js';
export { CoordinatorMetrics } from './metrics.js';
export {
  Coordinator,
  type CoordinatorOptions,
  type CoordinatorState,
  type CoordinatorStatus,
  type RoundSummary,
} from './coordinator.js';
export { createCoordinatorApp, joinRegistryFor, type CoordinatorAppOptions } from './app.js';
export { coordinatorIdentity, startCoordinator, type RunningCoordinator, type StartCoordinatorOptions } from './start.js';
export {
  CoordinatorStateSchema,
  ErrorBodySchema,
  FederationInfoSchema,
  JOIN_TARGET,
  JoinAckSchema,
  JoinRequestSchema,
  OCTET_STREAM,
  SESSION_HEADER,
  SubmissionAckSchema,
  type CoordinatorStateWire,
  type FederationInfo,
  type JoinAck,
} from './wire.js';
export { CoordinatorHttp, CoordinatorRejection, DEFAULT_RETRY, type RetryPolicy } from './http-transport.js';
export { Participant, type ParticipantOptions, type ParticipationResult, type TrainFn, type TrainResult } from './participant.js';
