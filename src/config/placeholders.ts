import type { Config } from "./schema.js";

/** Hosts reserved for examples (RFC 2606): a config that still names one was not finished. */
const EXAMPLE_HOST = /(^|\.)(example\.(com|net|org)|example)$/i;

/**
 * What a new user still has to change: every URL of the config that points at an example
 * host, by its path (`processes.web.measurement.url`). Secrets never appear in a config, and
 * the URL is shown as its origin only.
 */
export function examplePlaceholders(config: Config): string[] {
  const found: string[] = [];
  const walk = (value: unknown, path: string[]): void => {
    if (typeof value === "string") {
      const host = hostOf(value);
      if (host && EXAMPLE_HOST.test(host))
        found.push(`${path.join(".")}: ${host} is an example address; set your app's own`);
    } else if (Array.isArray(value)) value.forEach((item, i) => walk(item, [...path, String(i)]));
    else if (value && typeof value === "object")
      for (const [key, item] of Object.entries(value)) walk(item, [...path, key]);
  };
  walk(config.processes, ["processes"]);
  return found;
}

function hostOf(text: string): string | null {
  if (!/^https?:\/\//i.test(text)) return null;
  try {
    return new URL(text).hostname;
  } catch {
    return null;
  }
}
