import { Redis as UpstashRedis, errors as upstashErrors } from "@upstash/redis";
import type * as NodeRedis from "redis";
import { z } from "zod";
import { envName, integer } from "../kit/fields.js";
import { withTimeout } from "../kit/http.js";
import { scrub } from "../kit/redact.js";
import type { Reading, Unit } from "./types.js";
import type { Env } from "../kit/env.js";

/**
 * Read-only access to the Redis a job queue lives in, for the queue backends (Celery, Sidekiq,
 * BullMQ). A Netlify function is short-lived, so every measurement connects, reads in as few round
 * trips as it can and closes; nothing here may make a tick hang.
 */

/** The environment secrets are read from (process.env in production). */
/** Connection settings shared by the queue backends; spread into each backend's schema. */
export const brokerSettingsFields = {
  // The URL is a secret (it may carry a password), so the config only names its variable.
  brokerUrlEnv: envName
    .default("REDIS_URL")
    .describe(
      "The environment variable holding the broker URL: redis:// or rediss:// (TCP), or https:// (Upstash REST).",
    ),
  brokerTokenEnv: envName
    .optional()
    .describe("The environment variable holding the Upstash REST token, for an http(s):// broker URL."),
  brokerTlsVerify: z
    .boolean()
    .default(true)
    .describe(
      "Verify the broker's TLS certificate; Heroku Redis serves rediss:// self-signed and needs false.",
    ),
  timeoutMs: integer(1, 60_000)
    .default(5000)
    .describe(
      "How long connecting and reading may take, in milliseconds; then the reading fails (the decision holds).",
    ),
};
export const brokerSettingsSchema = z.object(brokerSettingsFields);

/** Settings every queue backend shares besides the connection: how jobs in progress weigh. */
const workerSettingsFields = {
  holdScaleDownWhileBusy: z
    .boolean()
    .default(true)
    .describe(
      "Hold the worker's scale-down while any job is in progress (scale-down-held-busy), so no job is killed; false for an app that drains on SIGTERM.",
    ),
};
export type BrokerSettings = z.infer<typeof brokerSettingsSchema>;
type WorkerSettings = z.infer<z.ZodObject<typeof workerSettingsFields>>;

/** Every queue backend's shared settings: how busy jobs weigh, and the connection. */
export const queueSettingsFields = { ...workerSettingsFields, ...brokerSettingsFields };

/** The few read commands the queue backends need; numbers are list indexes and ranges. */
export type BrokerCommand =
  | readonly ["LLEN", string]
  | readonly ["ZCARD", string]
  | readonly ["LINDEX", string, number]
  | readonly ["LRANGE", string, number, number]
  | readonly ["ZRANGE", string, number, number]
  | readonly ["HGET", string, string]
  | readonly ["HLEN", string]
  /** A read-only Lua script, for a lookup that depends on another read (one round trip still). */
  | readonly ["EVAL", string, readonly string[], readonly string[]];

/** A Redis reply as both clients return it (RESP2: integers, bulk strings, nil, arrays). */
export type BrokerReply = string | number | null | BrokerReply[];

export interface QueueBroker {
  /** Runs the commands in one round trip (a pipeline) and returns their replies in order. */
  read(commands: readonly BrokerCommand[]): Promise<BrokerReply[]>;
  /** Never throws and never waits on the network. */
  close(): Promise<void>;
}

/**
 * node-redis, once a redis:// or rediss:// broker has needed it. It is loaded then, not with this
 * module: it is the heaviest package the function ships, and most ticks (HTTP heartbeats, Upstash
 * REST brokers) never touch it, so a cold start must not pay for it.
 */
let nodeRedis: typeof NodeRedis | undefined;

async function loadNodeRedis(): Promise<typeof NodeRedis> {
  return (nodeRedis ??= await import("redis"));
}

/** What a queue read found: the waiting work (`value`) and, when read, the jobs in progress. */
export interface QueueRead {
  value: number;
  busy?: number;
}

/** An error whose message is safe to print as it is: it names settings and keys, never secrets. */
export class QueueError extends Error {}

/**
 * Connects to the broker named by the settings: redis:// or rediss:// over TCP, http(s):// as an
 * Upstash REST endpoint. Aborting `signal` tears the connection down (pending reads then reject).
 */
export async function connectBroker(
  settings: BrokerSettings,
  env: Env,
  signal: AbortSignal,
): Promise<QueueBroker> {
  signal.throwIfAborted(); // an abort listener added now would never fire
  const target = brokerTarget(settings, env);
  return target.kind === "tcp"
    ? connectTcp(target.url, target.tls, settings, signal)
    : connectUpstash(target.url, target.token, signal);
}

/**
 * One measurement of a queue: connects, runs `read`, closes. Every failure (broker down, timeout,
 * abort, malformed data, missing settings) becomes a failed reading whose failureMeans is
 * "unknown": an unreachable broker says nothing about the load, so decisions hold.
 */
export async function measureQueue(
  options: {
    backend: string;
    unit: Unit;
    settings: BrokerSettings & Partial<WorkerSettings>;
    env: Env;
    signal: AbortSignal;
  },
  read: (broker: QueueBroker) => Promise<number | QueueRead>,
): Promise<Reading> {
  const { backend, unit, settings, env, signal } = options;
  const deadline = withTimeout(signal, settings.timeoutMs);
  let broker: QueueBroker | undefined;
  try {
    broker = await untilAborted(connectBroker(settings, env, deadline), deadline);
    const found = await untilAborted(read(broker), deadline);
    const { value, busy } = typeof found === "number" ? { value: found, busy: undefined } : found;
    const reading: Reading = { backend, value, unit, ok: true };
    if (busy !== undefined) {
      reading.busy = busy;
      reading.holdScaleDownWhileBusy = settings.holdScaleDownWhileBusy ?? true;
    }
    return reading;
  } catch (error) {
    const why = scrub(describe(error, signal, deadline, settings.timeoutMs), secretsOf(settings, env));
    return { backend, value: null, unit, ok: false, failureMeans: "unknown", error: why };
  } finally {
    await broker?.close();
  }
}

/** A non-negative integer reply (LLEN, ZCARD). */
export function countReply(reply: BrokerReply | undefined, what: string): number {
  if (typeof reply === "number" && Number.isInteger(reply) && reply >= 0) return reply;
  throw new QueueError(`unexpected broker reply for ${what}`);
}

/** A bulk string or nil reply (LINDEX, HGET). */
export function textReply(reply: BrokerReply | undefined, what: string): string | null {
  if (reply === null || typeof reply === "string") return reply;
  throw new QueueError(`unexpected broker reply for ${what}`);
}

type BrokerTarget =
  { kind: "tcp"; url: string; tls: boolean } | { kind: "upstash"; url: string; token: string };

/** Where to connect, from the environment variables the settings name. */
function brokerTarget(settings: BrokerSettings, env: Env): BrokerTarget {
  const url = env[settings.brokerUrlEnv]?.trim();
  if (!url) {
    throw new QueueError(`broker URL missing: environment variable ${settings.brokerUrlEnv} is not set`);
  }
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new QueueError(`broker URL in ${settings.brokerUrlEnv} is not a valid URL`);
  }
  if (protocol === "redis:" || protocol === "rediss:") {
    return { kind: "tcp", url, tls: protocol === "rediss:" };
  }
  if (protocol !== "https:" && protocol !== "http:") {
    throw new QueueError(
      `broker URL in ${settings.brokerUrlEnv} must start with redis://, rediss:// or https:// (Upstash REST)`,
    );
  }
  if (!settings.brokerTokenEnv) {
    throw new QueueError(
      `an http(s) broker URL is an Upstash REST endpoint: set brokerTokenEnv for its token`,
    );
  }
  const token = env[settings.brokerTokenEnv]?.trim();
  if (!token) {
    throw new QueueError(`broker token missing: environment variable ${settings.brokerTokenEnv} is not set`);
  }
  return { kind: "upstash", url, token };
}

async function connectTcp(
  url: string,
  tls: boolean,
  settings: BrokerSettings,
  signal: AbortSignal,
): Promise<QueueBroker> {
  // No reconnects and no offline queue: a lost connection fails the reads at once, and the next
  // tick tries again with a fresh connection. socketTimeout ends a connection that goes silent.
  const socket = {
    connectTimeout: settings.timeoutMs,
    socketTimeout: settings.timeoutMs,
    reconnectStrategy: false as const,
  };
  const { createClient } = await loadNodeRedis();
  // The load may have outlasted the deadline; an abort listener added now would never fire.
  signal.throwIfAborted();
  const client = createClient({
    url,
    // RESP2 replies are plain integers, strings, nil and arrays: what BrokerReply describes and
    // what Upstash answers; node-redis 6 would otherwise ask for RESP3 (HELLO 3).
    RESP: 2,
    disableOfflineQueue: true,
    socket: tls ? { ...socket, tls: true, rejectUnauthorized: settings.brokerTlsVerify } : socket,
  });
  // Failures reach us through the rejected connect or read; an unheard 'error' event would crash.
  client.on("error", () => {});
  let closed = false;
  const close = (): void => {
    closed = true;
    signal.removeEventListener("abort", close);
    // The reads are done, so there is nothing to drain: closing the socket beats a QUIT round trip.
    client.destroy();
  };
  // node-redis cannot cancel a TCP connect in flight: destroy() does nothing until the socket
  // exists, and the socket would then stay open. So close it the moment it connects.
  client.on("connect", () => {
    if (closed) client.destroy();
  });
  const connecting = client.connect();
  signal.addEventListener("abort", close, { once: true });
  try {
    await connecting;
  } catch (error) {
    close();
    throw error;
  }
  return {
    async read(commands) {
      const pipeline = client.multi();
      for (const command of commands) pipeline.addCommand(redisArguments(command));
      return (await pipeline.execAsPipeline()) as unknown as BrokerReply[];
    },
    close: () => Promise.resolve(close()),
  };
}

function connectUpstash(url: string, token: string, signal: AbortSignal): QueueBroker {
  let redis: UpstashRedis;
  try {
    redis = new UpstashRedis({
      url,
      token,
      automaticDeserialization: false, // job payloads are parsed by the backends, strictly
      retry: false, // the next tick is the retry
      // A function, so an abort rejects the request (a plain signal would resolve it as "Aborted").
      signal: () => signal,
      enableAutoPipelining: false,
      enableTelemetry: false,
    });
  } catch {
    // The client's own message quotes the URL.
    throw new QueueError("broker URL is not a valid Upstash REST URL");
  }
  return {
    async read(commands) {
      if (commands.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const command of commands) {
        const [name, key] = command;
        if (name === "LLEN") pipeline.llen(key);
        else if (name === "ZCARD") pipeline.zcard(key);
        else if (name === "LINDEX") pipeline.lindex(key, command[2]);
        else if (name === "LRANGE") pipeline.lrange(key, command[2], command[3]);
        else if (name === "ZRANGE") pipeline.zrange(key, command[2], command[3]);
        else if (name === "HGET") pipeline.hget(key, command[2]);
        else if (name === "HLEN") pipeline.hlen(key);
        else pipeline.eval(command[1], [...command[2]], [...command[3]]);
      }
      return pipeline.exec<BrokerReply[]>();
    },
    close: () => Promise.resolve(),
  };
}

/** A command as Redis takes it: EVAL script numkeys key... arg...; the rest as they are. */
function redisArguments(command: BrokerCommand): string[] {
  if (command[0] === "EVAL") {
    const [, script, keys, args] = command;
    return ["EVAL", script, String(keys.length), ...keys, ...args];
  }
  return command.map(String);
}

/** Settles with `promise`, or rejects as soon as `signal` aborts, whichever is first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => {}); // a late rejection after the abort is expected, not unhandled
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function describe(error: unknown, signal: AbortSignal, deadline: AbortSignal, timeoutMs: number): string {
  if (error instanceof QueueError) return error.message;
  // Checked before the error itself: an abort tears the connection down, and the error that
  // surfaces then ("client closed", "fetch aborted") would hide why.
  if (signal.aborted) return "broker unreachable: measurement cancelled (tick deadline)";
  if (deadline.aborted) return `broker unreachable: no answer within ${timeoutMs} ms`;
  // Without node-redis loaded, no error can be one of its replies.
  const redisReply = nodeRedis !== undefined && error instanceof nodeRedis.ErrorReply;
  if (redisReply || error instanceof upstashErrors.UpstashError) {
    // Upstash appends ", command was: [...]"; the keys are noise here.
    return `broker error: ${error.message.split(", command was:")[0]}`;
  }
  return `broker unreachable: ${reason(error)}`;
}

/** The error code when there is one (ECONNREFUSED, ENOTFOUND): messages may quote host and port. */
function reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = errorCode(error);
  const cause = error.cause instanceof Error ? errorCode(error.cause) : undefined;
  const why = code ?? (cause ? `${error.message} (${cause})` : error.message);
  return /CERT|SSL|TLS/.test(why)
    ? `${why} (a self-signed certificate, as Heroku Redis uses, needs brokerTlsVerify: false)`
    : why;
}

function errorCode(error: Error): string | undefined {
  const code = (error as Error & { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** The URL, its password and the token, so no message can echo them (e.g. a client quoting its URL). */
function secretsOf(settings: BrokerSettings, env: Env): string[] {
  const url = env[settings.brokerUrlEnv]?.trim();
  const token = settings.brokerTokenEnv ? env[settings.brokerTokenEnv]?.trim() : undefined;
  const secrets = [url, token];
  try {
    const password = url ? new URL(url).password : "";
    if (password) secrets.push(password, decodeURIComponent(password));
  } catch {
    // not a URL: the whole string is already listed
  }
  return secrets.filter((secret): secret is string => Boolean(secret));
}
