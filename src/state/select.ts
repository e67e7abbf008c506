import { FileStateStore } from "./file.js";
import type { StateStore } from "./types.js";
import { UpstashStateStore } from "./upstash.js";
import type { Env } from "../kit/env.js";

/** A state store that cannot be used as configured: a startup error, said plainly. */
export class StoreConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreConfigError";
  }
}

export const DEFAULT_STATE_DIR = ".autoscalebot";

/** Netlify's local emulation (`netlify dev`, @netlify/dev) sets one of these; its own runtime checks the same. */
export const emulatedLocally = (env: Env): boolean => Boolean(env.NETLIFY_DEV || env.NETLIFY_LOCAL);

/**
 * True where local files cannot hold state: on Netlify's servers. The functions know they run
 * there (Netlify's runtime does not expose NETLIFY or CONTEXT to functions); the CLI looks for
 * those build variables, which a CLI run inside a Netlify build would see.
 */
export function onNetlify(env: Env): boolean {
  return Boolean((env.NETLIFY || env.CONTEXT) && !emulatedLocally(env));
}

/**
 * Upstash's console shows a `rediss://default:<password>@...` connection string beside the REST
 * URL; that one, or any URL with a user or password in it, is refused without being echoed.
 */
function checkRestUrl(url: string): void {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase();
  if (scheme === "redis" || scheme === "rediss")
    throw new StoreConfigError(
      "UPSTASH_REDIS_REST_URL holds a redis:// connection string: use the database's REST URL (https://<name>.upstash.io, under REST API in Upstash's console)",
    );
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StoreConfigError("UPSTASH_REDIS_REST_URL is not a URL: expected https://<name>.upstash.io");
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:")
    throw new StoreConfigError("UPSTASH_REDIS_REST_URL must be an https:// URL");
  if (parsed.username || parsed.password)
    throw new StoreConfigError(
      "UPSTASH_REDIS_REST_URL must not hold a user or password: the token goes in UPSTASH_REDIS_REST_TOKEN",
    );
}

/**
 * Upstash when UPSTASH_REDIS_REST_URL and _TOKEN are set, else local files (the embedded
 * default). On Netlify, files would vanish between invocations: there it is an error instead.
 */
export function createStateStore(env: Env, keyPrefix: string, filesAllowed = !onNetlify(env)): StateStore {
  const url = env.UPSTASH_REDIS_REST_URL;
  const token = env.UPSTASH_REDIS_REST_TOKEN;
  if (url) checkRestUrl(url);
  if (url && token) return new UpstashStateStore({ url, token, keyPrefix });
  if (url || token) {
    throw new StoreConfigError("set both UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN, or neither");
  }
  if (!filesAllowed) {
    throw new StoreConfigError(
      "UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN must be set on Netlify: a function's files do not survive between ticks",
    );
  }
  return new FileStateStore({ dir: env.AUTOSCALE_STATE_DIR || DEFAULT_STATE_DIR, keyPrefix });
}
