import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";

/** A throwaway `redis-server` on loopback, for tests and the local demo. */
export interface RedisServer {
  /** `redis://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** Stops the server and resolves once it has exited. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;
const READY_LINE = "Ready to accept connections";
/** Exit code of `sh` when the command is not found. */
const COMMAND_NOT_FOUND = 127;

/**
 * Runs redis-server under a tiny shell guard. The guard's stdin is a pipe from this process, so
 * when this process goes away for any reason (even SIGKILL) the pipe closes, `read` returns and
 * the guard kills redis; stop() uses the same path by closing the pipe. redis-server itself has
 * no "die with parent" option, and an exit hook would not run on signals.
 */
const GUARD_SCRIPT = [
  // Background jobs get /dev/null as stdin, so hand the pipe to the watcher as fd 3.
  "exec 3<&0",
  'redis-server "$@" 3<&- &',
  "pid=$!",
  '(read _ignored <&3; kill "$pid" 2>/dev/null) >/dev/null 2>&1 &',
  "exec 3<&-",
  'wait "$pid"',
].join("\n");

/** Starts redis-server on a free loopback port (or the one given); no persistence. */
export async function startRedisServer(options: { port?: number } = {}): Promise<RedisServer> {
  if (options.port !== undefined) return startOnPort(options.port);
  // The free port we found may be taken before redis binds it; try a fresh one a few times.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnPort(await findFreePort());
    } catch (error) {
      if (!(error instanceof PortInUseError)) throw error;
      lastError = error;
    }
  }
  throw lastError;
}

class PortInUseError extends Error {}

async function startOnPort(port: number): Promise<RedisServer> {
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--protected-mode",
    "yes",
  ];
  const child = spawn("sh", ["-c", GUARD_SCRIPT, "redis-server-guard", ...args], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", () => resolve()); // spawn failed: there is nothing to wait for
  });
  // Once redis has exited, release the guard's watcher too.
  void exited.then(() => child.stdin?.destroy());

  try {
    await waitUntilReady(child, port);
  } catch (error) {
    child.stdin?.destroy();
    await exited;
    throw error;
  }
  // Keep draining output so redis never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.stdin?.end();
      await exited;
    },
  };
}

function waitUntilReady(child: ChildProcess, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let output = "";
    const finish = (error?: Error) => {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.stderr?.off("data", onData);
      child.off("exit", onExit);
      child.off("error", onError);
      if (error) reject(error);
      else resolve();
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (output.includes(READY_LINE)) finish();
    };
    const onExit = (code: number | null) => {
      if (code === COMMAND_NOT_FOUND) {
        finish(
          new Error(
            "redis-server is not installed (not on PATH); install it with apt-get install -y redis-server",
          ),
        );
      } else if (/address already in use/i.test(output)) {
        finish(new PortInUseError(`redis-server could not bind port ${port}: address already in use`));
      } else {
        finish(new Error(`redis-server exited with code ${code} before it was ready:\n${output.trim()}`));
      }
    };
    const onError = (error: Error) => finish(new Error(`could not start redis-server: ${error.message}`));
    const timer = setTimeout(() => {
      child.stdin?.destroy();
      finish(new Error(`redis-server did not become ready within ${READY_TIMEOUT_MS} ms:\n${output.trim()}`));
    }, READY_TIMEOUT_MS);

    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
    child.once("error", onError);
  });
}

async function findFreePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
