import { Command, CommanderError, Option } from 'commander';
import { analyzeCommand } from './analyze-command.js';
import { EXIT } from './exit-codes.js';
import { featuresCommand } from './features-command.js';
import type { Output } from './output.js';
import { rulesCheck } from './rules-check.js';
import { VERSION } from './version.js';

const console_: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

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
    .argument('<file>', 'a PE file (x86 or x64) to analyse')
    .addOption(
      new Option(
        '-r, --rules <path>',
        'rule file or directory (repeatable; default: $CAPA_TS_RULES, else the bundled rules)',
      ).argParser(collect),
    )
    .option('-j, --json', "print capa's JSON result document")
    .option('-v, --verbose', 'show the address of every match')
    .action((file: string, options: { rules?: string[]; json?: boolean; verbose?: boolean }) => {
      code = analyzeCommand(file, options, ['capa-ts', ...argv], io);
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
