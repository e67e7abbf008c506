import { readFile } from "node:fs/promises";
import type { z } from "zod";
import { configSchema, type Config } from "./schema.js";

/** An invalid configuration: every problem, each naming its path (`processes.web.decision.maxProcesses`). */
export class ConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid configuration (${source}):\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

function describeIssue(issue: z.core.$ZodIssue, prefix: PropertyKey[] = []): string {
  const fullPath = [...prefix, ...issue.path];
  const path = fullPath.map(String).join(".") || "(root)";
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys
        .map((key) => `${[...fullPath, key].map(String).join(".")}: unknown setting`)
        .join("\n");
    case "invalid_union": {
      // A discriminated union names its options (zod's types do not declare them).
      const options = (issue as { options?: unknown }).options;
      if (Array.isArray(options))
        return `${path}: expected one of ${options.map((o) => JSON.stringify(o)).join(", ")}`;
      // Of a plain union's branches, the one that got furthest into the value says what is wrong.
      const deepest = issue.errors
        .filter((branch) => branch.length > 0 && branch.every((inner) => inner.path.length > 0))
        .sort((a, b) => b[0]!.path.length - a[0]!.path.length)[0];
      if (deepest) return deepest.map((inner) => describeIssue(inner, fullPath)).join("\n");
      return `${path}: ${issue.message}`;
    }
    case "invalid_key":
      return `${path}: ${issue.issues[0]?.message ?? issue.message}`;
    default:
      return `${path}: ${issue.message.replace(/^Invalid input: /, "")}`;
  }
}

/** Every problem of a failed parse, one line each, by path under `prefix`. */
export function describeIssues(error: z.ZodError, prefix: PropertyKey[] = []): string[] {
  return error.issues.flatMap((issue) => describeIssue(issue, prefix).split("\n"));
}

/** Parses a configuration object; throws ConfigError listing every problem by path. */
export function parseConfig(input: unknown, source = "config"): Config {
  const result = configSchema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(source, describeIssues(result.error));
}

/**
 * Where JSON text stops being valid, without quoting it: V8's message quotes some of the input
 * (`..."ization": Bearer sk_"... is not valid JSON`), and config text may hold secrets. Only the
 * position V8 reports is kept, as a line and column.
 */
function describeJsonError(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : "";
  const match = /\bposition (\d+)\b/.exec(message);
  let position = match ? Number(match[1]) : undefined;
  if (position === undefined && /^Unexpected end of JSON input$/.test(message)) position = text.length;
  if (position === undefined || position > text.length) return "not valid JSON";
  const before = text.slice(0, position);
  const line = before.split("\n").length;
  const column = position - before.lastIndexOf("\n");
  return `not valid JSON at line ${line}, column ${column}`;
}

/** Parses JSON text; a syntax error is a ConfigError too, so every entry point reports it the same way. */
export function parseConfigJson(text: string, source: string): Config {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(source, [describeJsonError(error, text)]);
  }
  return parseConfig(input, source);
}

export async function loadConfigFile(path: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ConfigError(path, [
      `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    ]);
  }
  return parseConfigJson(text, path);
}
