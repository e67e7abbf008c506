import { createServer, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { close, listen } from "../../src/local/listen.js";
import { SeededRandom } from "../../src/simulate/random.js";

/**
 * A router in front of several app processes, as Heroku's is: each request goes to a process
 * picked at random (seeded, so a test knows which), with `X-Request-Start` set to the moment it
 * arrived (epoch ms from `clock`) unless told not to. A process that cannot be reached is
 * answered 503, as the router's H-errors are.
 */
export interface RandomRouter {
  url: string;
  /** The index of the process each request went to, in order. */
  routed: number[];
  close(): Promise<void>;
}

export interface RandomRouterOptions {
  seed?: number;
  clock?: () => number;
  /** Set X-Request-Start (default true). */
  requestStart?: boolean;
}

export async function startRandomRouter(
  upstreams: string[],
  options: RandomRouterOptions = {},
): Promise<RandomRouter> {
  const random = new SeededRandom(options.seed ?? 1);
  const clock = options.clock ?? (() => Date.now());
  const routed: number[] = [];
  const server = createServer((incoming, response) => {
    const index = Math.floor(random.next() * upstreams.length);
    routed.push(index);
    const target = new URL(upstreams[index]!);
    const headers: IncomingHttpHeaders = { ...incoming.headers, host: target.host };
    if (options.requestStart ?? true) headers["x-request-start"] = String(clock());
    const proxied = httpRequest(
      { host: target.hostname, port: target.port, path: incoming.url, method: incoming.method, headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    proxied.on("error", () => {
      if (!response.headersSent) response.writeHead(503, { "Content-Type": "text/plain" });
      response.end("no process answered\n");
    });
    incoming.pipe(proxied);
  });
  const url = await listen(server);
  return { url, routed, close: () => close(server) };
}
