import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/**
 * A proxy in front of the local Upstash REST front that delays, drops, fails or hangs chosen
 * commands, so real ticks meet a store that misbehaves exactly when a test says. A rule matches a
 * command by name (SET, GET, EVAL, XADD, ...; for EVAL scripts also by a word in the script) and
 * applies to its next `times` occurrences; everything else passes through untouched.
 */
export type Fault =
  | { kind: "fail"; status?: number }
  /** The command runs, but its answer is lost: the connection closes without one. */
  | { kind: "drop-answer" }
  /** Never answered (until the proxy closes). */
  | { kind: "hang" }
  | { kind: "delay"; ms: number };

export interface FaultRule {
  command: string;
  /** For EVAL: a word the script must contain (e.g. "set" for a fenced save). */
  scriptContains?: string;
  fault: Fault;
  /** Matching commands let through first (e.g. 1: the tick's second save, not its first). */
  after?: number;
  times?: number;
}

export interface FaultProxy {
  url: string;
  inject(rule: FaultRule): void;
  clear(): void;
  /** Command names seen, in order. */
  seen: string[];
  close(): Promise<void>;
}

function commandOf(path: string, body: string): { name: string; script: string } {
  if (path === "/" || path === "") {
    try {
      const parsed = JSON.parse(body) as unknown[];
      const script = typeof parsed[1] === "string" ? parsed[1] : "";
      return { name: String(parsed[0]).toUpperCase(), script: script.toLowerCase() };
    } catch {
      return { name: "?", script: "" };
    }
  }
  if (path === "/pipeline" || path === "/multi-exec")
    return { name: path.slice(1).toUpperCase(), script: "" };
  return { name: path.split("/")[1]!.toUpperCase(), script: "" };
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const rules: (FaultRule & { passed: number; left: number })[] = [];
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const upstream = new URL(target);

  const forward = (request: IncomingMessage, body: Buffer, response: ServerResponse, drop: boolean) => {
    const proxied = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: request.url,
        method: request.method,
        headers: request.headers,
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on("data", (c: Buffer) => chunks.push(c));
        answer.on("end", () => {
          if (drop) return void response.socket?.destroy();
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          response.end(Buffer.concat(chunks));
        });
      },
    );
    proxied.on("error", () => response.socket?.destroy());
    proxied.end(body);
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (c: Buffer) => chunks.push(c));
    request.on("end", () => {
      const body = Buffer.concat(chunks);
      const { name, script } = commandOf(
        new URL(request.url ?? "/", "http://proxy").pathname,
        body.toString(),
      );
      seen.push(name);
      const rule = rules.find(
        (r) => r.left > 0 && r.command === name && (!r.scriptContains || script.includes(r.scriptContains)),
      );
      if (!rule || rule.passed++ < (rule.after ?? 0)) return forward(request, body, response, false);
      rule.left--;
      const { fault } = rule;
      if (fault.kind === "hang") return;
      if (fault.kind === "fail") {
        response.writeHead(fault.status ?? 500, { "Content-Type": "application/json" });
        return void response.end(JSON.stringify({ error: "ERR injected fault" }));
      }
      if (fault.kind === "drop-answer") return forward(request, body, response, true);
      setTimeout(() => forward(request, body, response, false), fault.ms);
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    inject: (rule) => rules.push({ ...rule, passed: 0, left: rule.times ?? 1 }),
    clear: () => void (rules.length = 0),
    seen,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
