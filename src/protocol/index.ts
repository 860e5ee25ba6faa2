/**
 * fedveil/protocol: one secure-aggregation round (Bonawitz et al. 2017, with the SecAgg+ sparse
 * graph of Bell et al. 2020) as two pure, transport-agnostic state machines — {@link ServerRound}
 * and {@link ClientRound} — composed from one module per phase (advertise-keys, share-keys,
 * masked-input, consistency-check, unmask), plus every message's zod schema and wire codec and an
 * in-memory driver. spec/protocol.md is the normative description.
 *
 * @packageDocumentation
 */

export { PROTOCOL_VERSION, PHASES, PHASE_CODE, phasesOf, nextPhase, type Phase, type RoundMode } from './phases.js';
export {
  planRound,
  toWireConfig,
  roundBinding,
  RoundConfigSchema,
  MAX_PARTICIPANTS,
  MAX_DIM,
  MAX_EXTRA_COORDINATES,
  type RoundConfig,
  type RoundPlan,
  type GraphSpec,
} from './config.js';
export {
  CLIENT_MESSAGE_PHASE,
  SERVER_MESSAGE_PHASE,
  type ClientHeader,
  type ServerHeader,
  type EncryptedShare,
  type RevealedShare,
  type ConsistencySignature,
  type AdvertiseKeysMessage,
  type ShareKeysMessage,
  type MaskedInputMessage,
  type ConsistencyCheckMessage,
  type UnmaskMessage,
  type KeyListMessage,
  type ShareBundleMessage,
  type ConsistencyRequestMessage,
  type UnmaskRequestMessage,
  type RoundAbortedMessage,
  type ClientMessage,
  type ServerMessage,
} from './messages.js';
export {
  CanonicalWriter,
  SIGNED_MESSAGE_DOMAIN,
  canonicalPayload,
  signedBytes,
  messageSignedBytes,
  signMessage,
  verifyMessage,
  consistencySignedBytes,
  maskedInputSignedBytes,
  vectorDigest,
} from './canonical.js';
export {
  ClientHeaderSchema,
  ServerHeaderSchema,
  AdvertiseKeysSchema,
  ShareKeysSchema,
  MaskedInputEnvelopeSchema,
  ConsistencyCheckSchema,
  UnmaskSchema,
  KeyListSchema,
  ShareBundleSchema,
  ConsistencyRequestSchema,
  UnmaskRequestSchema,
  RoundAbortedSchema,
  ClientMessageSchema,
  ServerMessageSchema,
  MIN_SHARE_CIPHERTEXT_BYTES,
  MAX_SHARE_CIPHERTEXT_BYTES,
} from './wire/schemas.js';
export { bytesCodec, varBytesCodec, IndexSchema, IndexListSchema } from './wire/codecs.js';
export {
  encodeClientMessage,
  decodeClientMessage,
  encodeServerMessage,
  serverMessageJson,
  decodeServerMessage,
  type WireClientMessage,
} from './wire/serialize.js';
export {
  validateClientMessage,
  validateServerMessage,
  checkServerMessage,
  isCheckedServerMessage,
  type CheckedServerMessage,
} from './wire/validate.js';
export { ServerMessageMemo } from './wire/message-memo.js';
export { RoundPlanMemo } from './plan-memo.js';
export {
  type Rejected,
  type Outgoing,
  type ServerAccepted,
  type ServerStep,
  type ClientSend,
  type ClientRefused,
  type ClientAborted,
  type ClientStep,
  type RoundParameters,
  type DropoutsByPhase,
  type WrongShare,
  type CompletedOutcome,
  type AbortedOutcome,
  type RoundOutcome,
} from './results.js';
export { ServerRound, type ServerRoundOptions, type ServerStatus } from './server/server-round.js';
export { ClientRound, type ClientRoundOptions, type ClientStatus } from './client/client-round.js';
export type { RevealedKind } from './client/unmask.js';
export { maskingSecretFromSeed, SECRET_BYTES } from './secrets.js';
export {
  runRoundInMemory,
  type InMemoryOptions,
  type InMemoryParticipant,
  type InMemoryResult,
  type DropoutSchedule,
  type InstrumentTarget,
  type RevealedByOwner,
} from './in-memory.js';
