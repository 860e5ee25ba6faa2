/** `--name value` options after a suite's name on the bench command line (`npm run bench -- protocol --n 1000`). */
export type BenchArgs = Record<string, string>;

/** Splits argv into suite names and `--name value` options (a flag without a value is 'true'). */
export function parseBenchArgs(argv: readonly string[]): { suites: string[]; args: BenchArgs } {
  const suites: string[] = [];
  const args: BenchArgs = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith('--')) {
      suites.push(a);
      continue;
    }
    const [name, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
    if (inline !== undefined) args[name] = inline;
    else if (i + 1 < argv.length && !(argv[i + 1] as string).startsWith('--')) args[name] = argv[++i] as string;
    else args[name] = 'true';
  }
  return { suites, args };
}

/** A numeric option (scientific notation allowed: `--d 1e6`), or `fallback`; throws on a non-number. */
export function numberArg(args: BenchArgs, name: string, fallback: number): number {
  const v = args[name];
  if (v === undefined) return fallback;
  const x = Number(v);
  if (!Number.isFinite(x)) throw new Error(`--${name} must be a number, got '${v}'`);
  return x;
}
