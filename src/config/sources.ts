import { parseConfig, parseConfigJson } from "./load.js";
import type { Config } from "./schema.js";
import { configFromSeedEnv, usesSeedEnv } from "./seed-env.js";
import type { Env } from "../kit/env.js";

/**
 * The Netlify functions' configuration, first found wins: `AUTOSCALE_CONFIG` (JSON), the
 * seeds' AUTOSCALE_* variables (one process), the `autoscale.config.json` bundled with the site.
 */
export function configForFunctions(env: Env, bundled: unknown): Config {
  const fromEnv = env.AUTOSCALE_CONFIG;
  if (fromEnv && fromEnv.trim() !== "") return parseConfigJson(fromEnv, "AUTOSCALE_CONFIG");
  if (usesSeedEnv(env, variablesNamedIn(bundled))) return configFromSeedEnv(env);
  return parseConfig(bundled, "autoscale.config.json");
}

/** The AUTOSCALE_* names a configuration mentions (an `apiKeyEnv`, a `urlEnv`): its own variables, not seed settings. */
function variablesNamedIn(value: unknown, names = new Set<string>()): Set<string> {
  if (typeof value === "string" && /^AUTOSCALE_\w+$/.test(value)) names.add(value);
  else if (value !== null && typeof value === "object")
    for (const inner of Object.values(value)) variablesNamedIn(inner, names);
  return names;
}
