import { z } from 'zod';
import { planRound, RoundConfigSchema, type RoundConfig, type RoundPlan } from './config.js';
import { deepFreeze } from './deep-freeze.js';

/**
 * {@link planRound} done once for every participant of one process that is asked to join the same
 * round. A simulation worker hosts hundreds of a cohort's members; each decodes the same round
 * config and would otherwise derive its own plan — the SecAgg+ graph over the whole cohort, the DP
 * encoder, the schema check of every key — O(n) each, O(n²) per round, and one graph per member
 * held in memory for the round.
 *
 * The plan is a pure function of the config's content, so a plan is reused only for a config equal
 * to the one it was derived from in every field, every byte of every key and seed included (a
 * private copy is kept: a caller changing its own config afterwards cannot change what is
 * compared). Any difference is planned afresh, and a config that fails planning is never kept:
 * each caller gets its own refusal. The announced config itself is decoded once per exact JSON
 * ({@link RoundPlanMemo.decodeConfig}). A real participant is one process and does both itself.
 */
export class RoundPlanMemo {
  private readonly kept: { config: RoundConfig; plan: RoundPlan }[] = [];
  private readonly decoded = new Map<string, RoundConfig>();

  /** `capacity`: how many distinct configs are kept (a round's config repeats; older ones are dropped). */
  constructor(private readonly capacity = 4) {}

  /** `planRound(config)`, or the plan already derived from an equal config. Throws as {@link planRound}. */
  plan(config: RoundConfig): RoundPlan {
    if (!isPlainData(config)) return planRound(config);
    for (const k of this.kept) if (sameValue(k.config, config)) return k.plan;
    const copy = copyValue(config) as RoundConfig;
    const plan = planRound(copy);
    this.kept.push({ config: copy, plan });
    if (this.kept.length > this.capacity) this.kept.shift();
    return plan;
  }

  /**
   * `z.decode(RoundConfigSchema, wire)` (null when it fails), decoded once per JSON text of `wire`:
   * the coordinator announces one config to the whole cohort, and decoding checks every key. Only
   * a JSON value (what `JSON.parse` yields, -0 excepted) is looked up by its text; the config
   * handed out is shared and frozen (its byte arrays are never written by a participant).
   */
  decodeConfig(wire: unknown): RoundConfig | null {
    const text = isJsonValue(wire) ? JSON.stringify(wire) : null;
    const known = text === null ? undefined : this.decoded.get(text);
    if (known !== undefined) return known;
    const parsed = z.safeDecode(RoundConfigSchema, wire as z.input<typeof RoundConfigSchema>);
    if (!parsed.success) return null;
    const config = deepFreeze(parsed.data as RoundConfig);
    if (text !== null) {
      if (this.decoded.size >= this.capacity) this.decoded.delete(this.decoded.keys().next().value as string);
      this.decoded.set(text, config);
    }
    return config;
  }
}

/** Whether `x` is a JSON value that `JSON.stringify` writes exactly: no undefined, function, byte array, non-finite number or -0. */
function isJsonValue(x: unknown): boolean {
  if (x === null || typeof x === 'string' || typeof x === 'boolean') return true;
  if (typeof x === 'number') return Number.isFinite(x) && !Object.is(x, -0);
  if (typeof x !== 'object') return false;
  if (Array.isArray(x)) return x.every(isJsonValue);
  return isPlainObject(x) && Object.values(x).every(isJsonValue);
}

/**
 * Deep equality of plain data: primitives by `Object.is`, byte arrays byte for byte, arrays
 * element-wise, plain objects by the same own keys with equal values. Two distinct objects of any
 * other kind (a Map, a class instance) are never equal.
 */
function sameValue(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!(Array.isArray(a) && Array.isArray(b)) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function isPlainObject(x: object): boolean {
  const proto = Object.getPrototypeOf(x) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Whether `x` is made of primitives, byte arrays, arrays and plain objects only (what a decoded config is). */
function isPlainData(x: unknown): boolean {
  if (typeof x !== 'object' || x === null) return typeof x !== 'function';
  if (x instanceof Uint8Array) return true;
  if (Array.isArray(x)) return x.every(isPlainData);
  return isPlainObject(x) && Object.values(x).every(isPlainData);
}

/** A deep copy of plain data (byte arrays copied, arrays and objects frozen). */
function copyValue(x: unknown): unknown {
  if (typeof x !== 'object' || x === null) return x;
  if (x instanceof Uint8Array) return Uint8Array.from(x);
  if (Array.isArray(x)) return Object.freeze(x.map(copyValue));
  return Object.freeze(Object.fromEntries(Object.entries(x).map(([k, v]) => [k, copyValue(v)])));
}
