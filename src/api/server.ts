import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname } from "node:path";
import type { Env } from "../kit/env.js";
import { scrubberFor } from "../kit/redact.js";
import { authorize, json, scrubbedResponse } from "./http.js";
import { steerResponse } from "./steer.js";
import { healthResponse, statusResponse, statusTokens, type ApiContext } from "./status.js";

/**
 * `autoscalebot dashboard` (and the demo): the site's page and its API (status, health, pause,
 * resume) on loopback, over the configured store, answering as the Netlify functions do. With no
 * token set the API is open, since only this machine reaches it; with AUTOSCALE_STATUS_TOKEN (or
 * the trigger's) set, the page asks for it, and pause and resume take the trigger's token (or,
 * with none set, the status token).
 */
export interface Dashboard {
  url: string;
  close(): Promise<void>;
}

// public/ sits two levels above both src/api and dist/api.
const PUBLIC = new URL("../../public/", import.meta.url);

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

/** A file of public/, or null: the path is checked, so no `..` leaves the folder. */
async function staticFile(pathname: string): Promise<Response | null> {
  const name = pathname === "/" ? "index.html" : pathname.slice(1);
  if (!/^[\w-]+(\/[\w-]+)*\.[a-z]+$/.test(name)) return null;
  const type = TYPES[extname(name)];
  if (!type) return null;
  try {
    const body = await readFile(new URL(name, PUBLIC));
    return new Response(body, { headers: { "Content-Type": type, "Cache-Control": "no-store" } });
  } catch {
    return null;
  }
}

async function route(request: Request, env: Env, context: () => ApiContext): Promise<Response> {
  const { pathname } = new URL(request.url);
  // Every answer of the API is scrubbed of the config's secrets, as the functions' are.
  if (pathname.startsWith("/api/"))
    return scrubbedResponse(answer(pathname, request, env, context), scrubberFor(env, context().config));
  if (request.method !== "GET" && request.method !== "HEAD")
    return json(405, { error: "use GET" }, { Allow: "GET" });
  return (await staticFile(pathname)) ?? new Response("not found\n", { status: 404 });
}

function answer(
  pathname: string,
  request: Request,
  env: Env,
  context: () => ApiContext,
): Promise<Response> | Response {
  if (pathname === "/api/status") return statusResponse(request, env, context, { openWhenUnset: true });
  if (pathname === "/api/health") return healthResponse(request, context);
  if (pathname === "/api/pause" || pathname === "/api/resume") {
    if (request.method !== "POST") return json(405, { error: "use POST" }, { Allow: "POST" });
    // The trigger's token steers; without one, whatever token guards the page does.
    const tokens = env.AUTOSCALE_TRIGGER_TOKEN ? [env.AUTOSCALE_TRIGGER_TOKEN] : statusTokens(env);
    const refused = authorize(request, tokens, "AUTOSCALE_TRIGGER_TOKEN", { openWhenUnset: true });
    return refused ?? steerResponse(pathname === "/api/pause" ? "pause" : "resume", request, context);
  }
  return json(404, { error: `no endpoint ${pathname}` });
}

async function toRequest(message: IncomingMessage, base: string): Promise<Request> {
  const chunks: Buffer[] = [];
  for await (const chunk of message) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(message.headers))
    if (typeof value === "string") headers.set(name, value);
  const method = message.method ?? "GET";
  return new Request(new URL(message.url ?? "/", base), {
    method,
    headers,
    ...(method === "GET" || method === "HEAD" ? {} : { body: Buffer.concat(chunks) }),
  });
}

async function send(response: Response, out: ServerResponse): Promise<void> {
  out.writeHead(response.status, Object.fromEntries(response.headers));
  out.end(Buffer.from(await response.arrayBuffer()));
}

export async function startDashboard(options: {
  context: ApiContext;
  env: Env;
  /** Default 8787; 0 picks a free port. */
  port?: number;
}): Promise<Dashboard> {
  const context = () => options.context;
  let base = "http://127.0.0.1/";
  const server = createServer((message, out) => {
    toRequest(message, base)
      .then((request) => route(request, options.env, context))
      .then((response) => send(response, out))
      .catch(() => {
        if (!out.headersSent) out.writeHead(500);
        out.end();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 8787, "127.0.0.1", () => resolve());
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url: base,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
