/** One `pullback` subcommand: a file in cli/commands/ exporting this shape, listed in cli/index.ts. */
export interface CliCommand {
  name: string;
  summary: string;
  /** Arguments after the subcommand name. Resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}

/** A usage error: printed with the command's help, exit code 64 (EX_USAGE). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
