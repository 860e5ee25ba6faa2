/**
 * fedveil's learning layer on TensorFlow.js: what each participant runs on its own data (models,
 * datasets, partitions, local training with FedAvg/FedProx, evaluation) and what the coordinator
 * does with the decoded mean update (FedAvg, FedAvgM, FedAdagrad, FedAdam, FedYogi). It knows
 * nothing of masks or noise: it hands out a flat Float32Array update and takes back a flat mean.
 *
 * Typical participant round:
 * ```ts
 * await initBackend();
 * const model = await createModel({ kind: 'mlp' }, seed);
 * const { update, examples } = await trainLocal(model, globalWeights, myData, { epochs: 1, batchSize: 32, learningRate: 0.1, optimizer: 'sgd', seed });
 * ```
 * and coordinator round: `global = createServerOptimizer({ kind: 'fedavg' }).apply(global, meanFromUniformSum(sum, n))`.
 * @packageDocumentation
 */
export { initBackend, wasmBinaryDir, type BackendChoice, type BackendKind, type InitBackendOptions } from './backend.js';
export { TrainerError } from './errors.js';
export { createRng, type Rng } from './rng.js';
export { featureSize, labelHistogram, subset, take, validateDataset, type Dataset } from './data/dataset.js';
export { loadMnist, loadMnistLabels, mnistDataDir, type LoadMnistOptions, type MnistSplit } from './data/mnist.js';
export { fitStandardizer, parseCsv, parseTabular, standardize, type CsvDataset, type CsvOptions, type Standardizer, type TabularSchema } from './data/csv.js';
export { partitionDataset, type ClientPartition, type PartitionOptions, type PartitionSpec } from './partition.js';
export { createCnn, createLogisticRegression, createMlp, createModel, modelFromJson, MODEL_KINDS, type CnnArchitecture, type CnnDownsample, type ModelSpec } from './models.js';
export { countParams, getFlatWeights, setFlatWeights, weightShapes } from './weights.js';
export { builtinParamCount } from './model-size.js';
export { assertCanTrain, missingTrainingKernels } from './kernels.js';
export { registerWasmTrainingKernels } from './wasmKernels.js';
export { checkDataFitsModel, trainLocal, type LocalOptimizer, type LocalTrainOptions, type LocalTrainResult } from './train.js';
export { evaluate, predictClasses, type EvaluateOptions, type EvaluationResult } from './evaluate.js';
export { ReleasedModelAverage } from './model-average.js';
export { createServerOptimizer, scheduledLr, type ServerLrSchedule, type ServerOptimizer, type ServerOptimizerConfig, type ServerOptimizerState } from './serverOptimizer.js';
export { meanFromExampleWeightedSum, meanFromUniformSum, weightByExamples, type Weighting } from './weighting.js';
