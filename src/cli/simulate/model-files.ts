import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

/**
 * Saves a model as TensorFlow.js's layers format: `model.json` (topology and weights manifest) and
 * `weights.bin`, loadable with `tf.loadLayersModel` (tfjs-node's `file://` handler, or over HTTP).
 */
export async function saveModelFiles(model: tf.LayersModel, dir: string): Promise<{ modelJson: string; weights: string }> {
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
      };
      writeFileSync(paths.modelJson, `${JSON.stringify(json)}\n`);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: bytes.length } };
    }),
  );
  return paths;
}
