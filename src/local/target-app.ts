import { createServer } from "node:http";
import { close, listen } from "./listen.js";

/** What the app answers now: a fixed value, or a function of the moment (the demo's load model). */
type Setting<T> = T | (() => T);

export interface TargetAppOptions {
  latencyMs?: Setting<number>;
  status?: Setting<number>;
  port?: number;
}

export interface TargetApp {
  url: string;
  set(options: { latencyMs?: Setting<number>; status?: Setting<number> }): void;
  hits(): number;
  close(): Promise<void>;
}

const resolve = <T>(setting: Setting<T>): T =>
  typeof setting === "function" ? (setting as () => T)() : setting;

/** The app under measurement: a real HTTP server whose latency and status its owner sets. */
export async function startTargetApp(options: TargetAppOptions = {}): Promise<TargetApp> {
  let latencyMs: Setting<number> = options.latencyMs ?? 0;
  let status: Setting<number> = options.status ?? 200;
  let hits = 0;
  const server = createServer((request, response) => {
    hits++;
    const delay = Math.max(0, resolve(latencyMs));
    const timer = setTimeout(() => {
      const code = resolve(status);
      response.writeHead(code, { "Content-Type": "text/plain" }).end(code < 400 ? "ok\n" : "unavailable\n");
    }, delay);
    request.on("close", () => clearTimeout(timer));
  });
  const url = await listen(server, options.port);
  return {
    url,
    set(next) {
      if (next.latencyMs !== undefined) latencyMs = next.latencyMs;
      if (next.status !== undefined) status = next.status;
    },
    hits: () => hits,
    close: () => close(server),
  };
}
