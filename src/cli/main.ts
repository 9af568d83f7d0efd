import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { analyzePaths } from './analyze-paths.js';
import { FORMAT_CHOICES, OS_CHOICES, type AnalyzeOptions } from './analyze-command.js';
import { COLOR_CHOICES, useColor, type ColorMode } from './color.js';
import { EXIT } from './exit-codes.js';
import { featuresCommand } from './features-command.js';
import type { Output } from './output.js';
import { rulesCheck } from './rules-check.js';
import { VERSION } from './version.js';

const console_: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

interface CliAnalyzeOptions extends Omit<AnalyzeOptions, 'color' | 'verbose'> {
  jobs?: number;
  verbose?: number;
  vverbose?: boolean;
  color?: ColorMode;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Runs the command line; returns the exit code. */
export async function main(argv: string[], io: Output = console_): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('capa-ts')
    .description("capability detection for executables, with capa's rule language")
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s.trimEnd()),
      writeErr: (s) => io.err(s.trimEnd()),
    })
    .argument('<paths...>', 'PE files (x86 or x64) or directories of them to analyse')
    .addOption(
      new Option(
        '-r, --rules <path>',
        'rule file or directory (repeatable; default: $CAPA_TS_RULES, else the bundled rules)',
      ).argParser(collect),
    )
    .option('-j, --json', "print capa's JSON result document (one per line for many files)")
    .option('--jobs <n>', 'worker threads for many files (default: one per core)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
      return n;
    })
    .option('--no-cache', 'parse the rules again instead of using the rule cache')
    .addOption(
      new Option(
        '-v, --verbose',
        'show every match address (-vv: and the evaluation tree of every match)',
      ).argParser((_: string, previous: number | undefined) => (previous ?? 0) + 1),
    )
    .option('--vverbose', 'same as -vv')
    .option('-q, --quiet', 'no output but errors')
    .addOption(
      new Option('--color <when>', 'ANSI colours in the report')
        .choices(COLOR_CHOICES)
        .default('auto'),
    )
    .option('-t, --tag <value>', 'only rules whose name, namespace or meta contain VALUE')
    .option('--os <os>', `match rules as for this os (${OS_CHOICES.join(', ')})`)
    .option('--format <format>', `file format (${FORMAT_CHOICES.join(', ')})`)
    .addOption(
      new Option(
        '--restrict-to-functions <addresses>',
        'only analyse these functions (comma-separated, 0x… hex or decimal; repeatable)',
      ).argParser(collect),
    )
    .action(async (paths: string[], options: CliAnalyzeOptions) => {
      const { vverbose, color, jobs, ...rest } = options;
      const analyze: AnalyzeOptions = {
        ...rest,
        verbose: vverbose ? 2 : (options.verbose ?? 0),
        color: useColor(color),
      };
      code = await analyzePaths(paths, analyze, jobs, ['capa-ts', ...argv], io);
    });
  program
    .command('features')
    .description('list the features capa-ts extracts from a file, scope by scope, with addresses')
    .argument('<file>', 'a PE file')
    .addOption(
      new Option(
        '-f, --function <addr>',
        'only this function (repeatable, or comma-separated)',
      ).argParser(collect),
    )
    .action((file: string, options: { function?: string[] }) => {
      code = featuresCommand(file, options.function, io);
    });
  const rules = program.command('rules').description('work with rule files');
  rules
    .command('check')
    .description('load rules and print every error as file:line:col: message')
    .argument('<paths...>', 'rule files or directories of rules')
    .action((paths: string[]) => {
      code = rulesCheck(paths, io);
    });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? EXIT.ok : EXIT.badArguments;
    }
    throw e;
  }
  return code;
}
