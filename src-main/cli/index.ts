/**
 * The `pullback` command line. Each subcommand is one file in ./commands exporting a CliCommand;
 * add yours to COMMANDS below.
 */
import { ApiError } from '../shared/errors';
import { toApiError } from '../engine/errors';
import { UsageError, type CliCommand } from './types';
import { infoCommand } from './commands/info';
import { generateCommand } from './commands/generate';
import { deriveCommand } from './commands/derive';
import { sampleCommand } from './commands/sample';
import { invertCommand } from './commands/invert';
import { basisCommand } from './commands/basis';
import { editCommand } from './commands/edit';
import { analyzeCommand } from './commands/analyze';
import { galleryCommand } from './commands/gallery';
import { stripCommand } from './commands/strip';
import { transportCommand } from './commands/transport';
import { globalBasisCommand } from './commands/global-basis';

export const COMMANDS: CliCommand[] = [
  infoCommand,
  generateCommand,
  deriveCommand,
  sampleCommand,
  invertCommand,
  basisCommand,
  editCommand,
  analyzeCommand,
  galleryCommand,
  stripCommand,
  transportCommand,
  globalBasisCommand,
];

function usage(): string {
  return ['usage: pullback <command> [args]', '', 'commands:', ...COMMANDS.map((c) => `  ${c.summary}`)].join('\n');
}

/** Run the CLI; resolves to the exit code. Typed errors print as `error [code]: message`, never a stack. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name ? 0 : 64;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(`unknown command "${name}"\n\n${usage()}\n`);
    return 64;
  }
  // `pullback <command> --help`: the command's usage line on stdout, before any option is checked.
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`usage: pullback ${cmd.summary}\n`);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof UsageError || (err instanceof Error && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`${err.message}\n\nusage: pullback ${cmd.summary}\n`);
      return 64;
    }
    const e = err instanceof ApiError ? err.toPayload() : toApiError(err);
    process.stderr.write(`\nerror [${e.code}]: ${e.message}\n`);
    return e.code === 'cancelled' ? 130 : 1;
  }
}
