import type { DpConfig } from '../dp/index.js';
import type { RoundEvaluation, RoundSummary } from './coordinator.js';
import { evaluationRateNoise, type EvaluationSpec } from './federated-evaluation.js';

function epsilonSoFar(epsilon: number | null): string {
  return epsilon === null ? 'ε so far: no DP' : `ε so far ${epsilon.toFixed(4)}`;
}

/**
 * The log line of a released round's evaluation: "round r: accuracy A (±noise std) loss L over ~E
 * examples …, ε so far X". Federated totals say which model they measured, the standard
 * deviation of their DP noise, or that they were released without DP; the operator's test set
 * gives exact figures of the released model. Null for a round that released nothing. A
 * federation that evaluates but whose noised example count came out not positive gets a line
 * saying the round's accuracy cannot be estimated.
 */
export function evaluationLogLine(summary: RoundSummary, evaluation: RoundEvaluation | undefined, spec: EvaluationSpec | undefined, dp: DpConfig): string | null {
  if (summary.status !== 'completed') return null;
  const eps = epsilonSoFar(summary.epsilon);
  if (evaluation === undefined) {
    if (spec === undefined) return null;
    return `round ${summary.round}: federated accuracy cannot be estimated: the released (noised) count of held-out examples is not positive, ${eps}`;
  }
  const { accuracy, loss, examples } = evaluation;
  if (evaluation.source === 'test-set') {
    return `round ${summary.round}: accuracy ${accuracy.toFixed(4)} loss ${loss.toFixed(4)} over ${examples} examples of the operator's test set (model v${summary.modelVersion}), ${eps}`;
  }
  const of = evaluation.modelVersion === undefined ? '' : ` of model v${evaluation.modelVersion}`;
  if (!evaluation.noised || spec === undefined) {
    return `round ${summary.round}: accuracy ${accuracy.toFixed(4)} loss ${loss.toFixed(4)} over ${Math.round(examples)} held-out examples${of} (federated totals, released WITHOUT DP), ${eps}`;
  }
  const noise = evaluationRateNoise(spec, dp, summary.contributors, examples);
  return (
    `round ${summary.round}: accuracy ${accuracy.toFixed(4)} (±${noise.accuracy.toFixed(4)} noise std) loss ${loss.toFixed(4)} (±${noise.loss.toFixed(4)}) ` +
    `over ~${Math.round(examples)} held-out examples${of} (federated, noised), ${eps}`
  );
}
