import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { FedveilError } from '../secagg/index.js';
import { setFlatWeights } from '../trainer/index.js';

/**
 * Saves a model as TensorFlow.js's layers format: `model.json` (topology and weights manifest) and
 * `weights.bin`, loadable with `tf.loadLayersModel` (tfjs-node's `file://` handler, over HTTP, or
 * {@link loadModelFiles}). `metadata` goes into model.json's `userDefinedMetadata`.
 */
export async function saveModelFiles(model: tf.LayersModel, dir: string, metadata?: Record<string, unknown>): Promise<{ modelJson: string; weights: string }> {
  mkdirSync(dir, { recursive: true });
  const paths = { modelJson: join(dir, 'model.json'), weights: join(dir, 'weights.bin') };
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const data = artifacts.weightData;
      const bytes = data === undefined ? new Uint8Array(0) : new Uint8Array(Array.isArray(data) ? tf.io.concatenateArrayBuffers(data) : data);
      writeFileSync(paths.weights, bytes);
      const json = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
        ...(metadata === undefined ? {} : { userDefinedMetadata: metadata }),
      };
      writeFileSync(paths.modelJson, `${JSON.stringify(json)}\n`);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: bytes.length } };
    }),
  );
  return paths;
}

/** Name of the data schema written beside a released model. */
export const DATA_SCHEMA_FILE = 'data-schema.json';

/**
 * Writes a released global model into `dir` (model.json, weights.bin and, when the federation has
 * one, data-schema.json) as one step: the files go to a sibling folder first, which then replaces
 * `dir`, so a reader never finds half a model.
 */
export async function writeModelRelease(model: tf.LayersModel, dir: string, metadata: Record<string, unknown>, dataSchema: unknown): Promise<string> {
  const target = resolve(dir);
  const next = `${target}.next`;
  const old = `${target}.old`;
  rmSync(next, { recursive: true, force: true });
  await saveModelFiles(model, next, metadata);
  if (dataSchema !== null && dataSchema !== undefined) writeFileSync(join(next, DATA_SCHEMA_FILE), `${JSON.stringify(dataSchema, null, 2)}\n`);
  mkdirSync(dirname(target), { recursive: true });
  rmSync(old, { recursive: true, force: true });
  if (existsSync(target)) renameSync(target, old);
  renameSync(next, target);
  rmSync(old, { recursive: true, force: true });
  return join(target, 'model.json');
}

/** Which release of which federation a model folder holds. */
export interface ReleaseInfo {
  federationId: string;
  /** The federation's model spec (`model` of its config: name and options). */
  model: { name: string; options: Record<string, unknown> };
  version: number;
  hash: string;
}

/**
 * Writes the released global model `weights` (flat float32) into `dir` with {@link writeModelRelease}:
 * `template` (a model of the federation's architecture) takes the weights, model.json records the
 * release in `userDefinedMetadata.fedveil`, and the federation's data schema goes beside it. What
 * `serve` exports and `client --save-model` keeps, and what `predict --model` reads.
 */
export async function writeReleasedModel(template: tf.LayersModel, weights: Float32Array, dir: string, release: ReleaseInfo, dataSchema: unknown): Promise<string> {
  setFlatWeights(template, weights);
  const meta = { fedveil: { federationId: release.federationId, modelVersion: release.version, modelHash: release.hash, model: release.model } };
  return writeModelRelease(template, dir, meta, dataSchema);
}

interface ModelJson {
  modelTopology?: unknown;
  weightsManifest?: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata?: Record<string, unknown>;
}

/**
 * Loads a model saved by {@link saveModelFiles} (or any tfjs layers-format folder) from `dir`,
 * without tfjs-node. Throws FedveilError `cli/bad-model-dir` naming the file that is missing or malformed.
 */
export async function loadModelFiles(dir: string): Promise<{ model: tf.LayersModel; metadata: Record<string, unknown> }> {
  const file = join(dir, 'model.json');
  let json: ModelJson;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as ModelJson;
  } catch (e) {
    throw new FedveilError('cli/bad-model-dir', `cannot read ${file}: ${(e as Error).message}`);
  }
  if (json.modelTopology === undefined || !Array.isArray(json.weightsManifest)) {
    throw new FedveilError('cli/bad-model-dir', `${file} is not a TensorFlow.js layers model (it needs modelTopology and weightsManifest)`);
  }
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const p of group.paths) {
      try {
        buffers.push(readFileSync(join(dir, p)));
      } catch (e) {
        throw new FedveilError('cli/bad-model-dir', `cannot read the weights file ${join(dir, p)} that ${file} lists: ${(e as Error).message}`);
      }
    }
  }
  const weightData = new Uint8Array(buffers.reduce((n, b) => n + b.length, 0));
  let offset = 0;
  for (const b of buffers) {
    weightData.set(b, offset);
    offset += b.length;
  }
  try {
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: json.modelTopology as tf.io.ModelJSON['modelTopology'], weightSpecs, weightData: weightData.buffer }),
    );
    return { model, metadata: json.userDefinedMetadata ?? {} };
  } catch (e) {
    throw new FedveilError('cli/bad-model-dir', `tfjs cannot load the model in ${dir}: ${(e as Error).message}`);
  }
}
