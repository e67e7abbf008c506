import { parseArgs, type ParseArgsConfig } from "node:util";

/** Bad command-line words: the CLI prints the message and the usage, and exits 2. */
export class UsageError extends Error {}

/** Strict flags, no positionals; a parse error becomes a UsageError. */
export function parseFlags<const O extends NonNullable<ParseArgsConfig["options"]>>(
  args: string[],
  options: O,
) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
