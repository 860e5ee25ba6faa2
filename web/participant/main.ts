// The participant page. zod must be configured before any schema is built (the page's CSP
// forbids eval): first import.
import '../dashboard/zod-jitless.js';
import type * as tf from '@tensorflow/tfjs';
import type { KeyPair } from '../../src/secagg/index.js';
import { identityFile, identityFromFile, IdentityFileSchema } from '../../src/server/identity.js';
import type { Participant, ParticipationResult } from '../../src/server/participant.js';
import type { FederationInfo } from '../../src/server/wire.js';
import { BROWSER_BACKENDS, initBrowserBackend } from '../../src/trainer/browser-backend.js';
import { byId, el, fmtEps } from '../dashboard/dom.js';
import { browserParticipant, checkLocalCsv, DEFAULT_TRAINING, federationModel, fetchFederation, warmUp, newIdentity, PAGE_PROVIDER, publicKeyOf, type LocalData } from './session.js';
import { IndexedDbReceipts, loadIdentity, saveIdentity } from './store.js';

/**
 * The coordinator: `?coordinator=URL` when the page is hosted elsewhere (the coordinator must
 * then allow this origin, see `fedveil serve --cors-origin`), else the server that served it.
 */
const coordinator = new URL(new URLSearchParams(location.search).get('coordinator') ?? '/', location.href).href;
/** `?backend=webgl|wasm|cpu` starts only that tfjs backend (default: the first of them that works). */
const backendParam = new URLSearchParams(location.search).get('backend');
const backendOrder = BROWSER_BACKENDS.filter((b) => backendParam === null || b === backendParam);
/** The wasm backend's binaries are served next to this script. */
const assets = new URL('./', import.meta.url).href;

const state: {
  info: FederationInfo | null;
  identity: KeyPair | null;
  receipts: IndexedDbReceipts | null;
  participant: Participant | null;
  data: LocalData | null;
  model: tf.LayersModel | null;
  running: boolean;
} = { info: null, identity: null, receipts: null, participant: null, data: null, model: null, running: false };

const codeOf = (e: unknown): string => {
  const c = (e as { code?: unknown }).code;
  return typeof c === 'string' ? c : 'error';
};
const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function show(id: string, text: string, status: string, code?: string): void {
  const node = byId(id);
  node.textContent = text;
  node.dataset.state = status;
  if (code === undefined) delete node.dataset.code;
  else node.dataset.code = code;
}

function identityError(e: unknown): void {
  const p = byId('identity-error');
  p.hidden = e === null;
  p.textContent = e === null ? '' : `${codeOf(e)}: ${messageOf(e)}`;
  if (e !== null) p.dataset.code = codeOf(e);
}

function updateStart(): void {
  const ready = state.identity !== null && state.model !== null && byId<HTMLInputElement>('agree').checked && !state.running;
  (byId('start') as HTMLButtonElement).disabled = !ready;
}

async function showTerms(info: FederationInfo): Promise<void> {
  byId('fed-id').textContent = info.federationId;
  const dp = info.dp;
  byId('term-mechanism').textContent =
    dp.mechanism === 'none' ? 'none (no differential privacy)' : `${dp.mechanism}, noise multiplier ${dp.noiseMultiplier}, clip norm ${dp.clipNorm}`;
  byId('term-delta').textContent = String(info.delta);
  byId('term-colluders').textContent = String(info.colluders);
  byId('term-rounds').textContent = String(info.rounds);
  const schema = info.data;
  byId('schema').textContent =
    schema === null ? 'This federation publishes no data schema: CSV data cannot be used.' : `Columns ${schema.features.join(', ')}; label ${schema.label} (${schema.classes.join(', ')}).`;
}

/** My own ε so far from the ledger, verified under the pinned coordinator key and my receipts. */
async function refreshOwnEpsilon(): Promise<number | null> {
  if (state.participant === null) return null;
  const own = await state.participant.ownPrivacy();
  if (!own.ok) {
    show('own-epsilon', `the ledger does not verify: ${own.message}`, 'error', own.code);
    byId('term-budget').textContent = '—';
    return null;
  }
  byId('term-budget').textContent = own.genesis.epsilonBudget === null ? 'none set' : String(own.genesis.epsilonBudget);
  show('own-epsilon', `${fmtEps(own.epsilon)} over ${own.rounds} round${own.rounds === 1 ? '' : 's'} (ledger of ${own.entries} entries verified)`, 'ok');
  byId('own-epsilon').dataset.epsilon = String(own.epsilon);
  return own.epsilon;
}

async function useIdentity(identity: KeyPair, persist: boolean): Promise<void> {
  if (state.running) throw new Error('cannot change identity while taking part');
  if (persist) await saveIdentity(identityFile(identity));
  state.identity = identity;
  show('identity-key', publicKeyOf(identity), 'ok');
  (byId('export-identity') as HTMLButtonElement).disabled = false;
  identityError(null);
  if (state.info !== null) {
    state.receipts = await IndexedDbReceipts.open(publicKeyOf(identity), state.info.federationId);
    state.participant = participantFor(identity, state.receipts);
    await refreshOwnEpsilon();
  }
  updateStart();
}

function participantFor(identity: KeyPair, receipts: IndexedDbReceipts): Participant {
  const maxEps = Number(byId<HTMLInputElement>('max-epsilon').value);
  return browserParticipant({
    coordinator,
    identity,
    receipts,
    ...(byId<HTMLInputElement>('max-epsilon').value !== '' && maxEps > 0 ? { maxEpsilon: maxEps } : {}),
    data: () => (state.data === null || state.model === null ? null : { dataset: state.data.dataset, model: state.model }),
    training: DEFAULT_TRAINING,
    onPhase: (round, phase) => {
      const p = byId('progress');
      p.textContent = `round ${round}: ${phase} sent`;
      p.dataset.state = 'running';
      p.dataset.round = String(round);
      p.dataset.phase = phase;
    },
    onResult: (r) => void recordResult(r),
    log: (line) => {
      console.info(line);
      byId('log').textContent = line;
    },
  });
}

async function recordResult(r: ParticipationResult): Promise<void> {
  await state.receipts?.flush();
  const row = el('tr', { 'data-round': r.round, 'data-status': r.status }, el('td', {}, String(r.round)), el('td', {}, r.code ? `${r.status} (${r.code})` : r.status), el('td', {}, String(r.examples)), el('td', {}, '…'));
  byId('rounds').querySelector('tbody')?.append(row);
  const eps = await refreshOwnEpsilon();
  (row.lastElementChild as HTMLElement).textContent = fmtEps(eps);
}

async function start(): Promise<void> {
  if (state.identity === null || state.receipts === null || state.model === null) return;
  state.running = true;
  updateStart();
  for (const id of ['create-identity', 'import-identity', 'data-file', 'max-epsilon', 'agree']) (byId(id) as HTMLInputElement).disabled = true;
  // The limit the person set is part of what they agreed to: the participant is rebuilt with it.
  state.participant = participantFor(state.identity, state.receipts);
  try {
    show('progress', 'starting the trainer…', 'running');
    const choice = await initBrowserBackend({ wasmPaths: assets, order: backendOrder });
    const ms = await warmUp(state.model, (state.data as LocalData).dataset, DEFAULT_TRAINING);
    byId('backend').textContent = `${choice.name} (${choice.reason}; ready in ${(ms / 1000).toFixed(1)} s)`;
    byId('backend').dataset.backend = choice.name;
    show('progress', 'joining…', 'running');
    await state.participant.join();
    show('progress', 'joined; waiting for a round', 'running');
    const results = await state.participant.run();
    const done = results.filter((r) => r.status === 'completed').length;
    show('progress', `finished: ${done} of ${results.length} rounds completed`, 'finished');
  } catch (e) {
    show('progress', `${codeOf(e)}: ${messageOf(e)}`, 'error', codeOf(e));
  }
}

async function chooseData(file: File): Promise<void> {
  state.data = null;
  state.model = null;
  updateStart();
  const info = state.info;
  if (info === null) return;
  try {
    const data = checkLocalCsv(await file.text(), file.name, info);
    state.model = await federationModel(info, data.dataset, DEFAULT_TRAINING.seed);
    state.data = data;
    show('data-status', `${file.name}: ${data.dataset.size} rows fit the schema; rows per class: ${data.perClass.map((c) => `${c.name} ${c.rows}`).join(', ')}`, 'ok');
  } catch (e) {
    show('data-status', `${codeOf(e)}: ${messageOf(e)}`, 'error', codeOf(e));
  }
  updateStart();
}

function exportIdentity(): void {
  if (state.identity === null) return;
  const blob = new Blob([`${JSON.stringify(identityFile(state.identity), null, 2)}\n`], { type: 'application/json' });
  const a = el('a', { href: URL.createObjectURL(blob), download: `fedveil-identity-${publicKeyOf(state.identity).slice(0, 8)}.json` });
  document.body.append(a);
  a.click();
  a.remove();
}

async function importIdentity(file: File): Promise<void> {
  try {
    const parsed = IdentityFileSchema.safeParse(JSON.parse(await file.text()));
    if (!parsed.success) throw Object.assign(new Error(`${file.name} is not a fedveil identity file: ${parsed.error.issues[0]?.message ?? 'invalid'}`), { code: 'identity/invalid' });
    await useIdentity(identityFromFile(parsed.data, PAGE_PROVIDER, file.name), true);
  } catch (e) {
    identityError(e instanceof SyntaxError ? Object.assign(new Error(`${file.name} is not JSON`), { code: 'identity/unreadable' }) : e);
  }
}

async function main(): Promise<void> {
  byId('create-identity').addEventListener('click', () => void useIdentity(newIdentity(), true).catch(identityError));
  byId<HTMLInputElement>('import-identity').addEventListener('change', (ev) => {
    const f = (ev.target as HTMLInputElement).files?.[0];
    if (f) void importIdentity(f);
  });
  byId('export-identity').addEventListener('click', exportIdentity);
  byId<HTMLInputElement>('data-file').addEventListener('change', (ev) => {
    const f = (ev.target as HTMLInputElement).files?.[0];
    if (f) void chooseData(f);
  });
  byId('agree').addEventListener('change', updateStart);
  byId('start').addEventListener('click', () => void start());
  try {
    state.info = await fetchFederation(coordinator);
    show('conn', 'connected', 'live');
    await showTerms(state.info);
  } catch (e) {
    show('conn', `cannot reach ${coordinator}: ${messageOf(e)}`, 'error', codeOf(e));
  }
  const stored = await loadIdentity();
  if (stored !== null) {
    try {
      await useIdentity(identityFromFile(stored, PAGE_PROVIDER, 'in this browser'), false);
    } catch (e) {
      identityError(e);
    }
  }
}

void main();
