/**
 * One audited simulated federation for the audit bench, in its own process so that runs can go in
 * parallel and each carries its own FEDVEIL_TEST_NOISE_SCALE: argv[2] is the SimulateOptions as
 * JSON; prints one JSON line with the audit, the wall-clock seconds and the CPU seconds of this
 * process (all its threads: the coordinator and the participants' workers).
 */
import { SimulateOptionsSchema } from '../../src/cli/simulate/options.js';
import { runSimulation } from '../../src/cli/simulate/run.js';

const quiet = { info: () => undefined, phase: () => undefined, roundEnded: () => undefined };
const options = SimulateOptionsSchema.parse(JSON.parse(process.argv[2] as string));
const s = await runSimulation(options, quiet);
const cpu = process.cpuUsage();
process.stdout.write(
  `${JSON.stringify({
    audit: s.audit,
    seconds: s.seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    completedRounds: s.final.completedRounds,
    abortedRounds: s.rounds.filter((r) => r.status === 'aborted').length,
    finalEpsilon: s.final.epsilon,
  })}\n`,
);
