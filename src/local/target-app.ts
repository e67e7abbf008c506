import { createServer, type IncomingHttpHeaders } from "node:http";
import { close, listen } from "./listen.js";

/** A request as the app saw it: what tests assert the measurement sent. */
export interface TargetRequest {
  method: string;
  /** Path and query. */
  url: string;
  /** Lower-cased names, as Node gives them. */
  headers: IncomingHttpHeaders;
}

/**
 * What the app answers now: a fixed value, or a function of the request (and of the moment: the
 * demo's load model reads the current minute). Latency is resolved when the request arrives;
 * status, headers and body when the answer is sent.
 */
export type Setting<T> = T | ((request: TargetRequest) => T);

/** A string is sent as is; anything else as JSON. */
export type TargetBody = string | number | boolean | null | object;

export interface TargetSettings {
  latencyMs?: Setting<number>;
  status?: Setting<number>;
  /** Response headers, e.g. `Server-Timing`; they override the defaults (Content-Type). */
  headers?: Setting<Record<string, string>>;
  /** The body; by default "ok\n" below status 400 and "unavailable\n" from it. */
  body?: Setting<TargetBody>;
}

export interface TargetAppOptions extends TargetSettings {
  port?: number;
}

export interface TargetApp {
  url: string;
  set(options: TargetSettings): void;
  hits(): number;
  /** The most recent request, or undefined before the first. */
  lastRequest(): TargetRequest | undefined;
  close(): Promise<void>;
}

const resolve = <T>(setting: Setting<T>, request: TargetRequest): T =>
  typeof setting === "function" ? (setting as (request: TargetRequest) => T)(request) : setting;

/** The body to send: the one set (a string as is, anything else as JSON), else a default by status. */
function encode(body: TargetBody | undefined, status: number): { text: string; type: string } {
  if (body === undefined) return { text: status < 400 ? "ok\n" : "unavailable\n", type: "text/plain" };
  if (typeof body === "string") return { text: body, type: "text/plain" };
  return { text: JSON.stringify(body), type: "application/json" };
}

/** The app under measurement: a real HTTP server whose latency, status, headers and body its owner sets. */
export async function startTargetApp(options: TargetAppOptions = {}): Promise<TargetApp> {
  const settings: TargetSettings & Required<Pick<TargetSettings, "latencyMs" | "status">> = {
    latencyMs: 0,
    status: 200,
  };
  const set = (next: TargetSettings) => {
    if (next.latencyMs !== undefined) settings.latencyMs = next.latencyMs;
    if (next.status !== undefined) settings.status = next.status;
    if (next.headers !== undefined) settings.headers = next.headers;
    if (next.body !== undefined) settings.body = next.body;
  };
  set(options);
  let hits = 0;
  let last: TargetRequest | undefined;
  const server = createServer((incoming, response) => {
    hits++;
    const request: TargetRequest = {
      method: incoming.method ?? "GET",
      url: incoming.url ?? "/",
      headers: { ...incoming.headers },
    };
    last = request;
    const delay = Math.max(0, resolve(settings.latencyMs, request));
    const timer = setTimeout(() => {
      const code = resolve(settings.status, request);
      const { text, type } = encode(
        settings.body === undefined ? undefined : resolve(settings.body, request),
        code,
      );
      const headers = settings.headers === undefined ? {} : resolve(settings.headers, request);
      response.writeHead(code, { "Content-Type": type, ...headers }).end(text);
    }, delay);
    incoming.on("close", () => clearTimeout(timer));
  });
  const url = await listen(server, options.port);
  return {
    url,
    set,
    hits: () => hits,
    lastRequest: () => last,
    close: () => close(server),
  };
}
