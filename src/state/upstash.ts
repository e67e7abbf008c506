import { randomUUID } from "node:crypto";
import { Redis, errors, type RedisConfigNodejs } from "@upstash/redis";
import { withTimeout } from "../kit/http.js";
import { scrub } from "../kit/redact.js";
import { LockLostError, StateStoreError, STORE_TIMEOUT_MS, type Lock, type StateStore } from "./types.js";

export interface UpstashStateStoreOptions {
  url: string;
  token: string;
  /** Namespaces the keys: `<keyPrefix>:lock` and `<keyPrefix>:state`. */
  keyPrefix: string;
  /** Retries on network failures; `false` for none (tests). Default: 2 short retries. */
  retry?: false | { retries: number };
  /** Upper bound for one command including its retries. Default STORE_TIMEOUT_MS (5 s). */
  timeoutMs?: number;
}

/**
 * A tick has a 25 s budget and spends 5 commands here (SET NX PX, GET, EVAL, XADD, EVAL; one more
 * EVAL, the intents' append, when it scales), so a flaky network gets two quick retries, not the client's default five
 * with exponential backoff. Each retry is safe: the lock's retry is checked below, the fenced
 * save writes the same document again, and the release deletes only our own token.
 */
const DEFAULT_RETRY = { retries: 2, backoff: (retryCount: number) => 100 * 2 ** retryCount };

/** Deletes the lock only if it still holds our token, so we never free a lock someone else took after ours expired. */
const RELEASE_SCRIPT = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`;

/**
 * The fenced save: writes the state only while the lock still holds our token (it neither
 * expired nor passed to another tick), compared and written atomically in one command.
 */
const FENCED_SAVE_SCRIPT = `if redis.call("GET", KEYS[1]) == ARGV[1] then redis.call("SET", KEYS[2], ARGV[2]) return 1 else return 0 end`;

/** The fenced append: like the fenced save, but only the appended text travels and is written. */
const FENCED_APPEND_SCRIPT = `if redis.call("GET", KEYS[1]) == ARGV[1] then redis.call("APPEND", KEYS[2], ARGV[2]) return 1 else return 0 end`;

/** Entries per history read: at 20 processes about 4 MB, well under Upstash's 10 MB answers. */
const HISTORY_PAGE = 1000;

/** State in Upstash Redis over its REST API: exactly one command per call. */
export class UpstashStateStore implements StateStore {
  readonly kind = "upstash";
  readonly timeoutMs: number;
  readonly #redis: Redis;
  readonly #token: string;
  readonly #lockKey: string;
  readonly #stateKey: string;
  readonly #historyKey: string;

  constructor(options: UpstashStateStoreOptions) {
    const timeoutMs = options.timeoutMs ?? STORE_TIMEOUT_MS;
    this.timeoutMs = timeoutMs;
    this.#redis = createRedis({
      url: options.url,
      token: options.token,
      // Stores deal in raw strings; the codec parses them.
      automaticDeserialization: false,
      retry:
        options.retry === false
          ? false
          : options.retry
            ? { ...DEFAULT_RETRY, ...options.retry }
            : DEFAULT_RETRY,
      // A function, so each command gets a fresh timeout (a plain signal would also turn an
      // abort into a fake "Aborted" result instead of an error).
      signal: () => withTimeout(undefined, timeoutMs),
      // One HTTP request per command keeps the count exact and errors attributable.
      enableAutoPipelining: false,
      enableTelemetry: false,
    });
    this.#token = options.token;
    this.#lockKey = `${options.keyPrefix}:lock`;
    this.#stateKey = `${options.keyPrefix}:state`;
    this.#historyKey = `${options.keyPrefix}:history`;
  }

  async acquireLock(ttlMs: number): Promise<Lock | null> {
    const lockToken = randomUUID();
    const reply = await this.#run("acquireLock", () =>
      this.#redis.set(this.#lockKey, lockToken, { nx: true, px: Math.max(1, Math.ceil(ttlMs)) }),
    );
    // The client retries a request whose answer was lost; if the first attempt took the lock,
    // the retry finds it held — by us. One more read, only when the lock seemed taken, tells.
    if (reply !== "OK") {
      const holder = await this.#run("acquireLock", () => this.#redis.get<string>(this.#lockKey));
      if (holder !== lockToken) return null;
    }
    return {
      save: async (document) => {
        const written = await this.#run("save", () =>
          this.#redis.eval(FENCED_SAVE_SCRIPT, [this.#lockKey, this.#stateKey], [lockToken, document]),
        );
        if (written !== 1) throw new LockLostError(this.kind);
      },
      append: async (text) => {
        const written = await this.#run("append", () =>
          this.#redis.eval(FENCED_APPEND_SCRIPT, [this.#lockKey, this.#stateKey], [lockToken, text]),
        );
        if (written !== 1) throw new LockLostError(this.kind);
      },
      release: async () => {
        await this.#run("release", () => this.#redis.eval(RELEASE_SCRIPT, [this.#lockKey], [lockToken]));
      },
    };
  }

  async load(): Promise<string | null> {
    return this.#run("load", () => this.#redis.get<string>(this.#stateKey));
  }

  async appendHistory(entry: string, keep: number): Promise<void> {
    // "~": Redis trims whole macro nodes, so a few more than `keep` may stay; far cheaper.
    await this.#run("appendHistory", () =>
      this.#redis.xadd(
        this.#historyKey,
        "*",
        { tick: entry },
        { trim: { type: "MAXLEN", threshold: keep, comparison: "~" } },
      ),
    );
  }

  /**
   * The newest `count` entries, oldest first, read in pages of HISTORY_PAGE so that no answer
   * nears Upstash's 10 MB limit (a week of 20 processes is tens of megabytes).
   */
  async readHistory(count: number): Promise<string[]> {
    const ticks: string[] = [];
    let end = "+";
    while (ticks.length < count) {
      const page = Math.min(HISTORY_PAGE, count - ticks.length);
      const raw: unknown = await this.#run("readHistory", () =>
        this.#redis.xrevrange(this.#historyKey, end, "-", page),
      );
      // Raw replies (automaticDeserialization is off): [[id, [field, value, ...]], ...], newest first.
      if (!Array.isArray(raw) || raw.length === 0) break;
      for (const entry of raw as unknown[]) {
        const fields: unknown = Array.isArray(entry) ? entry[1] : undefined;
        if (!Array.isArray(fields)) continue;
        const tick: unknown = fields[fields.indexOf("tick") + 1];
        if (fields.includes("tick") && typeof tick === "string") ticks.push(tick);
      }
      const last: unknown = (raw.at(-1) as unknown[])[0];
      if (raw.length < page || typeof last !== "string") break;
      end = `(${last}`; // exclusive: the next page starts below the last id read
    }
    return ticks.reverse();
  }

  async #run<T>(operation: string, command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (error) {
      // An UpstashError means the REST endpoint answered, with an error; anything else means it did not answer.
      throw new StateStoreError(this.#describe(operation, error), {
        cause: error,
        unclear: !(error instanceof errors.UpstashError),
      });
    }
  }

  /** Names the operation and the reason; drops the echoed command (it may hold the whole document) and any token. */
  #describe(operation: string, error: unknown): string {
    const reason = errorReason(error).split(", command was:")[0]!;
    const redacted = scrub(reason, [this.#token]);
    return error instanceof errors.UpstashError
      ? `Upstash Redis error during ${operation}: ${redacted}`
      : `Upstash Redis unreachable during ${operation}: ${redacted}`;
  }
}

/** The client validates the URL on construction; report that like any other store failure. */
function createRedis(config: RedisConfigNodejs): Redis {
  try {
    return new Redis(config);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    // The client's message may quote the URL, and the cause's stack with it: neither is kept.
    throw new StateStoreError(`Upstash Redis is misconfigured: ${scrub(reason, [config.url, config.token])}`);
  }
}

/** The message, plus what fetch hides in its cause ("fetch failed" alone says little). */
function errorReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  const detail =
    typeof cause?.code === "string" ? cause.code : typeof cause?.message === "string" ? cause.message : "";
  return detail ? `${error.message} (${detail})` : error.message;
}
