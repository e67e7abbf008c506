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

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join(".") || "(root)";
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys.map((key) => `${path === "(root)" ? key : `${path}.${key}`}: unknown setting`).join("\n");
    case "invalid_union": {
      // A discriminated union names its options (zod's types do not declare them).
      const options = (issue as { options?: unknown }).options;
      if (Array.isArray(options)) return `${path}: expected one of ${options.map((o) => JSON.stringify(o)).join(", ")}`;
      return `${path}: ${issue.message}`;
    }
    default:
      return `${path}: ${issue.message.replace(/^Invalid input: /, "")}`;
  }
}

/** Parses a configuration object; throws ConfigError listing every problem by path. */
export function parseConfig(input: unknown, source = "config"): Config {
  const result = configSchema.safeParse(input);
  if (result.success) return result.data;
  throw new ConfigError(source, result.error.issues.flatMap((issue) => describeIssue(issue).split("\n")));
}

/** Parses JSON text; a syntax error is a ConfigError too, so every entry point reports it the same way. */
export function parseConfigJson(text: string, source: string): Config {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(source, [`not valid JSON: ${(error as Error).message}`]);
  }
  return parseConfig(input, source);
}

export async function loadConfigFile(path: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new ConfigError(path, [`cannot read the file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`]);
  }
  return parseConfigJson(text, path);
}

/**
 * The Netlify functions' configuration: `AUTOSCALE_CONFIG` (JSON) when set, else the
 * `autoscale.config.json` bundled with the site.
 */
export function configForFunctions(env: Record<string, string | undefined>, bundled: unknown): Config {
  const fromEnv = env.AUTOSCALE_CONFIG;
  if (fromEnv && fromEnv.trim() !== "") return parseConfigJson(fromEnv, "AUTOSCALE_CONFIG");
  return parseConfig(bundled, "autoscale.config.json");
}
