import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { recordOutput } from "./planted.js";

/**
 * The real CLI in a process of its own, for what only a process shows: signals, exit statuses,
 * a process that will not end. It is bundled from the sources under test (not dist/, which may
 * be stale) into node_modules/.cache, where its packages resolve as the product's do.
 */
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export interface CliBundle {
  path: string;
  remove(): Promise<void>;
}

export async function bundleCli(): Promise<CliBundle> {
  const dir = await mkdtemp(join(ROOT, "node_modules/.cache/cli-"));
  const path = join(dir, "bin.mjs");
  await build({
    entryPoints: [join(ROOT, "src/cli/bin.ts")],
    bundle: true,
    platform: "node",
    format: "esm",
    packages: "external",
    outfile: path,
    logLevel: "warning",
  });
  return { path, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface CliProcess {
  child: ChildProcess;
  /** Everything written to stdout and stderr so far, interleaved. */
  output(): string;
  /** Resolves once the output matches. */
  waitFor(pattern: RegExp): Promise<void>;
  /** How the process ended, and when (performance.now()). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

/** Starts `autoscalebot <args>` with exactly `env` (no inherited secrets), its output collected. */
export function spawnCli(
  bundle: CliBundle,
  args: string[],
  env: Record<string, string>,
  nodeArgs: string[] = [],
): CliProcess {
  const child = spawn(process.execPath, [...nodeArgs, bundle.path, ...args], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const waiters = new Set<{ pattern: RegExp; resolve: () => void }>();
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    recordOutput(chunk.toString());
    for (const waiter of waiters)
      if (waiter.pattern.test(output)) {
        waiters.delete(waiter);
        waiter.resolve();
      }
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  return {
    child,
    output: () => output,
    waitFor: (pattern) =>
      pattern.test(output)
        ? Promise.resolve()
        : new Promise<void>((resolve) => void waiters.add({ pattern, resolve })),
    exited,
  };
}
