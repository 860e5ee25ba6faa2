import { existsSync, readdirSync, statSync } from 'node:fs';
import { defaultProvider } from '../secagg/index.js';
import { Option, type Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { formatZodError } from '../server/config.js';
import { parseFilters, parseHidden, parsePartition, SimulateOptionsSchema, type SimulateOptions } from './simulate/options.js';
import { auditLine, noiseAuditLine } from './audit.js';
import { runSimulation, type ReportEpsilons, type RoundRow, type SimulationObserver, type SimulationSummary } from './simulate/run.js';

/** Raw commander values: numbers arrive as strings and are validated together by the schema. */
type RawFlags = Record<string, string | boolean | undefined>;

const NUMERIC = [
  'clients', 'rounds', 'cohort', 'threshold', 'colluders', 'minContributors', 'dropout', 'epsilon', 'delta', 'noise', 'clip', 'bits', 'examples',
  'localEpochs', 'batchSize', 'learningRate', 'proxMu', 'serverLr', 'serverLrDecayFrom', 'serverLrFinal', 'seed', 'workers', 'testExamples', 'deadlineMs', 'auditCanaries', 'noiseProbe',
  'maxStaleness', 'stalenessExponent', 'trainSeconds', 'speedSkew', 'availability', 'roundSeconds',
  'modelAverage', 'clipQuantile', 'clipLr', 'clipShare', 'clipMin', 'clipMax',
] as const;

/** Turns command-line flags into validated options; throws with every bad flag named. */
export function simulateOptionsFromFlags(flags: RawFlags): SimulateOptions {
  const input: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined) continue;
    if ((NUMERIC as readonly string[]).includes(k)) {
      const n = Number(v);
      if (typeof v !== 'string' || v.trim() === '' || !Number.isFinite(n)) throw new Error(`--${kebab(k)} must be a number, got '${String(v)}'`);
      input[k] = n;
    } else if (k === 'hidden') {
      input[k] = parseHidden(String(v));
    } else if (k === 'filters') {
      input[k] = parseFilters(String(v));
    } else if (k === 'partition') {
      input[k] = parsePartition(String(v));
    } else if (k === 'insecureBaseline' || k === 'keepOpen' || k === 'async' || k === 'adaptiveClip') {
      input[k] = v === true;
    } else if (k === 'dashboard') {
      // `--dashboard` alone: any free port.
      const n = v === true ? 0 : Number(v);
      if (typeof v === 'string' && (v.trim() === '' || !Number.isInteger(n))) throw new Error(`--dashboard takes a port number, got '${v}'`);
      input[k] = n;
    } else {
      input[k] = v;
    }
  }
  const res = SimulateOptionsSchema.safeParse(input);
  if (!res.success) throw new Error(formatZodError(res.error).replace(/(^|; )([a-zA-Z]+)/g, (_m, sep: string, field: string) => `${sep}--${kebab(field)}`));
  return res.data;
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function fmtEps(e: number | null): string {
  return e === null ? '∞' : e.toFixed(3);
}

/** Plain lines (not a terminal, or a log file). */
function lineObserver(write: (s: string) => void): SimulationObserver {
  return {
    info: (l) => write(`${l}\n`),
    phase: (round, phase) => write(`round ${round}: ${phase}\n`),
    roundEnded: (r) => write(`${roundLine(r)}\n`),
  };
}

function roundLine(r: RoundRow): string {
  const state = r.status === 'completed' ? '' : ` ABORTED (${r.code ?? 'unknown'}: ${r.reason ?? 'no reason given'})`;
  const clip = r.clipping === undefined ? '' : `, clip norm ${r.clipping.clipNorm.toPrecision(4)}${r.clipping.fraction === null ? '' : ` (fraction within ${r.clipping.fraction.toFixed(3)})`}`;
  const averaged = r.averaged === undefined ? '' : ` (averaged model ${(100 * r.averaged.accuracy).toFixed(2)}%)`;
  return `round ${r.round}${state}: accuracy ${(100 * r.accuracy).toFixed(2)}%${averaged}, loss ${r.loss.toFixed(4)}, ε ${fmtEps(r.epsilon)}, contributors ${r.contributors}, dropouts ${r.dropouts}${clip}, ${r.seconds.toFixed(1)} s`;
}

/** One progress bar over the rounds, its label showing the phase running now. */
function barObserver(rounds: number): SimulationObserver & { stop(): void } {
  const bar = new SingleBar(
    { format: 'rounds [{bar}] {value}/{total} | round {round}: {phase} | acc {acc} | ε {eps}', hideCursor: true, clearOnComplete: false },
    Presets.shades_classic,
  );
  let started = false;
  const ensure = () => {
    if (!started) bar.start(rounds, 0, { round: '-', phase: 'starting', acc: '-', eps: '-' });
    started = true;
  };
  return {
    info: (l) => {
      if (started) bar.stop();
      process.stderr.write(`${l}\n`);
      started = false;
    },
    phase: (round, phase) => {
      ensure();
      bar.update({ round, phase });
    },
    roundEnded: (r) => {
      ensure();
      bar.increment(1, { round: r.round, phase: r.status, acc: `${(100 * r.accuracy).toFixed(2)}%`, eps: fmtEps(r.epsilon) });
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

function printSummary(s: SimulationSummary, write: (l: string) => void): void {
  write('\n round | status    | accuracy | loss   | ε total | contributors | dropouts | seconds\n');
  for (const r of s.rounds) {
    write(
      ` ${String(r.round).padStart(5)} | ${r.status.padEnd(9)} | ${(100 * r.accuracy).toFixed(2).padStart(7)}% | ${r.loss.toFixed(3).padStart(6)} | ${fmtEps(r.epsilon).padStart(7)} | ${String(r.contributors).padStart(12)} | ${String(r.dropouts).padStart(8)} | ${r.seconds.toFixed(1).padStart(7)}\n`,
    );
  }
  const eps = s.final.epsilon === null ? 'no DP guarantee (--dp none)' : `ε = ${s.final.epsilon.toFixed(3)} at δ = ${s.final.delta} against ledger readers${observerEpsilon(s.epsilons)}`;
  if (s.interrupted) write(`\ninterrupted: ${s.final.completedRounds} rounds were released before the stop; the report and ledger cover them\n`);
  write(`\nfinal test accuracy ${(100 * s.final.accuracy).toFixed(2)}% after ${s.final.completedRounds}/${s.final.rounds} completed rounds; ${eps}\n`);
  const av = s.final.averaged;
  if (av !== null) write(`averaged model (decay ${av.decay} over ${av.versions} released versions): test accuracy ${(100 * av.accuracy).toFixed(2)}%, loss ${av.loss.toFixed(4)}; same ε (post-processing)\n`);
  write(`${s.seconds.toFixed(1)} s in all (${s.secondsPerRound.toFixed(2)} s per round), backend ${s.backend.name}, crypto ${defaultProvider.name}\n`);
  if (s.report !== null) write(`privacy report: ${s.report}\nledger:         ${s.ledger}\ncoordinator key: ${s.coordinatorKey}\n`);
  if (s.audit !== null) write(`${auditLine(s.audit)}\n`);
  if (s.noiseAudit !== null) write(`${noiseAuditLine(s.noiseAudit)}\n`);
  write(`model:          ${s.model}\n`);
  if (s.final.averaged !== null) write(`averaged model: ${s.final.averaged.model}\n`);
  if (s.report !== null) write(`check it:       fedveil verify-report ${s.report} --ledger ${s.ledger} --coordinator-key ${s.coordinatorKey}\n`);
}

/** A few of the entries of a non-empty `dir` (or 'a file' when it is one), null when it is absent or empty. */
function outContents(dir: string): string | null {
  if (!existsSync(dir)) return null;
  if (!statSync(dir).isDirectory()) return 'a file, not a folder';
  const entries = readdirSync(dir);
  if (entries.length === 0) return null;
  return entries.slice(0, 4).join(', ') + (entries.length > 4 ? ` and ${entries.length - 4} more` : '');
}

/** Registers `fedveil simulate`. Defaults shown in `--help` are the schema's own. */
export function registerSimulate(program: Command): void {
  const D = SimulateOptionsSchema.parse({});
  program
    .command('simulate')
    .description('run a private federated-learning simulation on MNIST: the real coordinator on loopback HTTP, participants in worker threads')
    .option('--clients <n>', 'number of simulated participants (the population; each exists only while drawn)', String(D.clients))
    .option('--rounds <n>', 'federated rounds', String(D.rounds))
    .option('--cohort <n>', 'participants drawn per round (default: all)')
    .addOption(new Option('--draw <method>', 'cohort draw: fixed (a uniform subset of --cohort, public seed) or poisson (each participant with probability cohort/clients, secret seed: amplification by sampling)').choices(['fixed', 'poisson']).default(D.draw))
    .option('--threshold <t>', 'Shamir threshold and fewest contributors a round may release (default: Bell et al.\'s on the SecAgg+ graph, a majority of the cohort on the complete graph)')
    .option('--min-contributors <m>', 'fewest contributors the noise is split among and a round may release (default: expected survivors less 3 standard deviations)')
    .option('--dropout <p>', 'probability a participant drops out of a round, at a random phase', String(D.dropout))
    .addOption(new Option('--dp <mechanism>', 'differential privacy mechanism').choices(['skellam', 'ddg', 'central', 'none']).default(D.dp))
    .addOption(new Option('--accountant <A>', 'accountant --epsilon is calibrated with: rdp, or pld (privacy loss distributions, tighter; --dp central only)').choices(['rdp', 'pld']).default(D.accountant))
    .option('--epsilon <e>', 'target ε over all rounds; calibrates the noise (default 8)')
    .addOption(
      new Option('--epsilon-against <adversary>', 'whose ε --epsilon bounds: ledger-reader (anyone who reads the ledger, no amplification) or model-observer (sees only the released models; amplified by a secret draw)')
        .choices(['ledger-reader', 'model-observer'])
        .default(D.epsilonAgainst),
    )
    .option('--delta <d>', 'δ of the (ε, δ) guarantee', String(D.delta))
    .option('--noise <z>', 'noise multiplier, instead of calibrating to --epsilon')
    .option('--clip <C>', 'L2 clip norm of each update (default 0.5 with DP, 100 without); with --adaptive-clip the first round\'s')
    .option('--adaptive-clip', 'adaptive clipping (Andrew et al. 2021): the clip norm follows a quantile of the update norms, from a noised bit each participant adds')
    .option('--clip-quantile <q>', 'with --adaptive-clip: the quantile of update norms the clip norm follows (default 0.5)')
    .option('--clip-lr <eta>', 'with --adaptive-clip: the geometric step η (default 0.2)')
    .option('--clip-share <beta>', "with --adaptive-clip: the bit's share of the clip norm (default 0.2)")
    .option('--clip-min <C>', 'with --adaptive-clip: the smallest clip norm (default --clip / 1000)')
    .option('--clip-max <C>', 'with --adaptive-clip: the largest clip norm (default 1000 · --clip)')
    .option('--bits <b>', 'bit width of the secure sum (modulus 2^b)', String(D.bits))
    .addOption(new Option('--model <name>', 'model').choices(['logreg', 'mlp', 'cnn']).default(D.model))
    .option('--hidden <widths>', 'with --model mlp: hidden layer widths, comma-separated (default 200,200); with --model cnn: its dense layers (default 512; none for none); under client-level DP the noise grows with the parameter count')
    .option('--filters <channels>', 'with --model cnn: channels of its 5×5 convolutions, comma-separated (default 32,64)')
    .addOption(new Option('--downsample <how>', 'with --model cnn: how each convolution halves the image (default max-pool)').choices(['max-pool', 'stride']))
    .option('--model-average <decay>', 'also evaluate and save (out/model-averaged) the exponential moving average of the released models with this decay, e.g. 0.8: it smooths the noise each release carries, at no ε (post-processing)')
    .option('--partition <spec>', 'iid, dirichlet:ALPHA or quantity:ALPHA', 'iid')
    .addOption(new Option('--neighbours <mode>', 'masking graph: complete (SecAgg) or secagg+ (sparse)').choices(['complete', 'secagg+']).default(D.neighbours))
    .addOption(new Option('--mode <mode>', 'threat model').choices(['semi-honest', 'malicious']).default(D.mode))
    .option('--colluders <c>', 'participants assumed to collude with the coordinator: the threshold exceeds it and a malicious-mode quorum q keeps 2q > cohort + c', String(D.colluders))
    .option('--examples <n>', 'examples per participant (default: its whole partition)')
    .option('--local-epochs <n>', 'local epochs per round', String(D.localEpochs))
    .option('--batch-size <n>', 'local batch size', String(D.batchSize))
    .option('--learning-rate <lr>', 'local SGD learning rate', String(D.learningRate))
    .option('--prox-mu <mu>', 'FedProx proximal term μ (0 = FedAvg)', String(D.proxMu))
    .addOption(new Option('--server-optimizer <name>', 'server optimiser').choices(['fedavg', 'fedavgm', 'fedadam', 'fedyogi', 'fedadagrad']).default(D.serverOptimizer))
    .option('--server-lr <lr>', 'server learning rate (default: the optimiser\'s)')
    .option('--server-lr-decay-from <round>', 'keep the server lr for this many rounds, then decay it along a cosine to --server-lr-final of it at the last round (post-processing: no ε)')
    .option('--server-lr-final <factor>', 'with --server-lr-decay-from: the server lr\'s final factor, in [0, 1] (default 0.1)')
    .option('--seed <n>', 'seed of everything random: a seeded simulation is reproducible, hence not private', String(D.seed))
    .option('--out <dir>', 'output directory (report, ledger, model); refused when not empty, unless --force', D.out)
    .option('--force', 'write into a non-empty --out, replacing an earlier run\'s files')
    .option('--workers <n>', 'worker threads for the participants (default: one per core)')
    .addOption(new Option('--backend <name>', 'tfjs backend (default: fastest available)').choices(['node', 'wasm', 'cpu']).env('FEDVEIL_BACKEND'))
    .option('--test-examples <n>', 'test examples evaluated after each round', String(D.testExamples))
    .option('--deadline-ms <ms>', 'deadline of each protocol phase (default: from the measured training time)')
    .option('--audit-canaries <k>', 'insert K canary participants and estimate ε empirically from the released models (fedveil audit); 0: no audit', String(D.auditCanaries))
    .option('--noise-probe <p>', 'P coordinates every participant appends with input 0, whose released values are pure noise: verify-report tests their variance against the claimed noise (default 256 with --audit-canaries, else 0)')
    .option('--insecure-baseline', 'plain federated averaging without masking or DP, to measure the protocol overhead')
    .option('--dashboard [port]', 'serve the live dashboard on 127.0.0.1 while it runs (no port: any free one) and print its URL')
    .option('--keep-open', 'with --dashboard: keep serving it after the run, until Ctrl-C')
    .option('--json', 'print one JSON summary on stdout instead of progress and tables')
    .option('--async', 'asynchronous federation (FedBuff): --rounds groups of the first --cohort participants ready, each update down-weighted by its staleness')
    .option('--max-staleness <n>', 'asynchronous: most model versions an update may lag', String(D.maxStaleness))
    .option('--staleness-exponent <a>', 'asynchronous: staleness weight (1 + τ)^(−a)', String(D.stalenessExponent))
    .option('--train-seconds <s>', 'median simulated seconds of one local training (simulated wall-clock)', String(D.trainSeconds))
    .option('--speed-skew <sigma>', 'σ of the log-normal training times across participants (0: equal speeds)', String(D.speedSkew))
    .option('--round-seconds <s>', 'simulated seconds the masked protocol of one round or group takes, beyond training', String(D.roundSeconds))
    .option('--availability <p>', 'probability a participant is online when it could start training', String(D.availability))
    .action(async (allFlags: RawFlags, cmd: Command) => {
      const { force, ...flags } = allFlags;
      let options: SimulateOptions;
      try {
        options = simulateOptionsFromFlags(flags);
      } catch (e) {
        cmd.error(`error: ${(e as Error).message}`, { exitCode: 2, code: 'fedveil.badOption' });
      }
      const held = force === true ? null : outContents(options.out);
      if (held !== null) {
        cmd.error(
          `error: --out ${options.out} already holds ${held}: this run would replace them. Pass --force to overwrite (npm start -- --force), or choose another --out.`,
          { exitCode: 2, code: 'fedveil.outNotEmpty' },
        );
      }
      const tty = !options.json && process.stderr.isTTY === true;
      const shown: SimulationObserver & { stop?: () => void } = options.json
        ? { info: () => undefined, phase: () => undefined, roundEnded: () => undefined }
        : tty
          ? barObserver(options.rounds)
          : lineObserver((s) => process.stdout.write(s));
      // Whether the federation still runs (Ctrl-C after it, with --keep-open, only closes the dashboard).
      let federationRunning = true;
      // The dashboard's address goes to stderr in every mode, so that --json's stdout stays one document.
      const observer: SimulationObserver & { stop?: () => void } = {
        ...shown,
        serving: (url) => process.stderr.write(`dashboard: ${url}\n`),
        keptOpen: (url) => {
          federationRunning = false;
          process.stderr.write(`the run is over and its files are written; the dashboard stays open at ${url} until Ctrl-C\n`);
        },
      };
      // Ctrl-C: stop the federation and still write the report and ledger of the released rounds; twice: quit at once.
      const interrupt = new AbortController();
      const onSigint = () => {
        if (interrupt.signal.aborted) process.exit(130);
        if (federationRunning) process.stderr.write('\ninterrupted: stopping the federation; writing the report and ledger of the rounds released so far (Ctrl-C again to quit at once)\n');
        interrupt.abort();
      };
      process.on('SIGINT', onSigint);
      let summary: SimulationSummary;
      try {
        summary = await runSimulation(options, observer, interrupt.signal);
      } finally {
        process.off('SIGINT', onSigint);
        observer.stop?.();
      }
      if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else printSummary(summary, (l) => process.stdout.write(l));
      if (summary.interrupted) process.exitCode = 130;
    });
}

/**
 * The report's ε against observers of the released models (amplified by secret draws where the
 * run has them): the ε `--epsilon-against model-observer` calibrates, which the headline (against
 * ledger readers) would otherwise hide. Empty without a report or a bound.
 */
function observerEpsilon(epsilons: ReportEpsilons | null): string {
  const m = epsilons?.modelObserver;
  if (m?.epsilon == null) return '';
  const pld = m.pldEpsilon === null ? '' : ` (PLD ${m.pldEpsilon.toFixed(3)})`;
  return `; ${m.epsilon.toFixed(3)}${pld} against observers of the released models${m.amplification ? ' (amplified by the secret draw)' : ''}`;
}
