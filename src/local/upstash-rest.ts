import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createClient, ErrorReply, MultiErrorReply } from "redis";
import { pathOf } from "./http-kit.js";
import { close, listen, readBody } from "./listen.js";

/**
 * An Upstash-REST-compatible HTTP front for a real Redis, so the real `@upstash/redis` client can
 * be exercised locally. Implements what that client uses: POST `/` (one command), `/pipeline`,
 * `/multi-exec`, Bearer auth and `Upstash-Encoding: base64`; also the path form `/set/key/value`.
 */
export interface UpstashRestServer {
  url: string;
  token: string;
  /** Redis commands executed, counting each command inside a pipeline or transaction. */
  commandCount(): number;
  resetCount(): void;
  /** Every command executed (name upper-cased, then its arguments), for assertions. */
  commands: string[][];
  close(): Promise<void>;
}

type Reply = string | number | null | Reply[];
type Outcome = { result: unknown } | { error: string };

/** A failure answered as `{error}` with this HTTP status. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startUpstashRest(options: {
  redisUrl: string;
  token: string;
  port?: number;
}): Promise<UpstashRestServer> {
  const redis = createClient({
    url: options.redisUrl,
    // RESP2 replies are what Upstash returns: flat arrays (e.g. HGETALL), strings, integers, null.
    RESP: 2,
    // While Redis is down, fail commands at once (→ 503) instead of queueing them until it is back,
    // and keep reconnecting in the background so the server recovers when Redis does.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 2_000,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1_000),
    },
  });
  // Connection errors surface per request; without a listener they would crash the process.
  redis.on("error", () => {});
  await redis.connect();

  const commands: string[][] = [];

  /** Runs one command; Redis error replies come back as `{error}`. */
  async function runOne(command: string[]): Promise<Outcome> {
    commands.push(command);
    try {
      return { result: await redis.sendCommand<Reply>(command) };
    } catch (error) {
      if (error instanceof ErrorReply) return { error: error.message };
      throw unavailable(error);
    }
  }

  /** MULTI/EXEC; runtime errors stay per command, like Redis (and Upstash) report them. */
  async function runTransaction(batch: string[][]): Promise<Outcome[]> {
    commands.push(...batch);
    const transaction = redis.multi();
    for (const command of batch) transaction.addCommand(command);
    let replies: unknown[];
    try {
      replies = await transaction.exec();
    } catch (error) {
      if (error instanceof MultiErrorReply) replies = error.replies;
      // A command refused while queueing aborts the whole transaction (EXECABORT).
      else if (error instanceof ErrorReply) throw new HttpError(400, error.message);
      else throw unavailable(error);
    }
    return replies.map((reply) =>
      reply instanceof ErrorReply ? { error: reply.message } : { result: reply },
    );
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (request.headers.authorization !== `Bearer ${options.token}`) throw new HttpError(401, "Unauthorized");
    // Fail fast while Redis is down or reconnecting rather than let a request wait for it.
    if (!redis.isReady) throw new HttpError(503, "Redis unavailable: not connected");
    const path = pathOf(request);
    const body = await readBody(request);
    const base64 = request.headers["upstash-encoding"] === "base64";
    const send = (status: number, payload: unknown) => {
      response.writeHead(status, { "Content-Type": "application/json" });
      response.end(JSON.stringify(payload));
    };
    const encode = (outcome: Outcome): Outcome =>
      "result" in outcome && base64 ? { result: encodeResult(outcome.result) } : outcome;

    if (path === "/pipeline" || path === "/multi-exec") {
      const batch = parseBatch(body);
      const outcomes =
        path === "/pipeline"
          ? await Promise.all(batch.map((command) => runOne(command)))
          : await runTransaction(batch);
      send(200, outcomes.map(encode));
      return;
    }
    const command = path === "/" ? parseCommand(parseJson(body)) : commandFromPath(path, body);
    const outcome = await runOne(command);
    send("error" in outcome ? 400 : 200, encode(outcome));
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      const message = error instanceof Error ? error.message : String(error);
      if (!response.headersSent) response.writeHead(status, { "Content-Type": "application/json" });
      response.end(JSON.stringify({ error: message }));
    });
  });
  const url = await listen(server, options.port);

  return {
    url,
    token: options.token,
    commands,
    commandCount: () => commands.length,
    resetCount: () => {
      commands.length = 0;
    },
    async close() {
      await close(server);
      redis.destroy();
    },
  };
}

function unavailable(error: unknown): HttpError {
  const reason = error instanceof Error ? error.message : String(error);
  return new HttpError(503, `Redis unavailable: ${reason}`);
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw new HttpError(400, "ERR failed to parse JSON body");
  }
}

/** A command is a non-empty array of strings, numbers or booleans; Redis gets them all as strings. */
function parseCommand(value: unknown): string[] {
  const valid =
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((arg) => ["string", "number", "boolean"].includes(typeof arg));
  if (!valid) throw new HttpError(400, "ERR command must be a non-empty array of strings");
  const [name, ...args] = (value as (string | number | boolean)[]).map(String);
  return [name!.toUpperCase(), ...args];
}

function parseBatch(body: string): string[][] {
  const value = parseJson(body);
  if (!Array.isArray(value) || value.length === 0) {
    throw new HttpError(400, "ERR pipeline must be a non-empty array of commands");
  }
  return value.map(parseCommand);
}

/** `/set/key/value` form: the path segments are the command; a request body is the last argument. */
function commandFromPath(path: string, body: string): string[] {
  let segments: string[];
  try {
    segments = path.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    throw new HttpError(400, "ERR malformed URL path");
  }
  return parseCommand(body === "" ? segments : [...segments, body]);
}

/**
 * Mirrors the client's `decode`: strings are base64 (a top-level "OK" is left as is, as Upstash
 * does), numbers and null pass through, arrays are encoded element by element at any depth.
 */
function encodeResult(result: unknown): unknown {
  if (result === "OK") return result;
  return encodeValue(result);
}

function encodeValue(value: unknown): unknown {
  if (typeof value === "string") return Buffer.from(value, "utf8").toString("base64");
  if (Array.isArray(value)) return value.map(encodeValue);
  return value;
}
