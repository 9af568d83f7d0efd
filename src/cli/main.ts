import { Command, CommanderError } from 'commander';
import { EXIT } from './exit-codes.js';
import { rulesCheck, type Output } from './rules-check.js';

const VERSION = '0.1.0';

const console_: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

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
