import { parseArgs, type ParseArgsConfig } from "node:util";

/** Bad command-line words: the CLI prints the message and the usage, and exits 2. */
export class UsageError extends Error {}

export type Options = NonNullable<ParseArgsConfig["options"]>;
type StrictConfig<O extends Options> = { args: string[]; options: O; strict: true; allowPositionals: false };
/** Spelled out so the declaration build can name it (util does not export its own name for it). */
export type Flags<O extends Options> = ReturnType<typeof parseArgs<StrictConfig<O>>>["values"];

/** Strict flags, no positionals; a parse error becomes a UsageError. */
export function parseFlags<const O extends Options>(args: string[], options: O): Flags<O> {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Strict flags and the words between them (file names); a parse error becomes a UsageError. */
export function parseFlagsAndWords<const O extends Options>(
  args: string[],
  options: O,
): { flags: Flags<O>; words: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: true });
    return { flags: values, words: positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
