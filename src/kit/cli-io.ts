import type { Env } from "./env.js";
/** Where the CLI reads its environment and writes: the process's own, or a test's. */
export interface CliIo {
  env: Env;
  /** Properties, not methods: they are passed on as plain functions (a notifier's `write`). */
  out: (text: string) => void;
  err: (text: string) => void;
  /**
   * Registers what stops `run` (the process: SIGINT and SIGTERM). With `endWithinMs`, the process
   * ends that long after the signal whatever still runs or holds it open (see endLate).
   */
  onStop: (stop: () => void, endWithinMs?: number) => void;
}

const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * The backstop behind a stop: the process is still alive `ms` after its signal. Whatever holds it
 * (a call our timeouts stopped waiting for but cannot cancel: a file read on a hung disk, a
 * request that ignores its abort) is named, then the signal's own default action ends the
 * process, as if no handler had been installed (exit status 128 + the signal's number).
 * `process.exit` is not enough: it waits for libuv's threadpool, where a hung file call sits.
 */
function endLate(signal: NodeJS.Signals, ms: number): void {
  const holding = [...new Set(process.getActiveResourcesInfo())].filter((r) => r !== "Timeout");
  process.stderr.write(
    `autoscalebot: still running ${ms} ms after ${signal} (${holding.join(", ") || "nothing"} still open): ending now\n`,
  );
  for (const name of STOP_SIGNALS) process.removeAllListeners(name);
  process.kill(process.pid, signal);
}

export const processIo: CliIo = {
  env: process.env,
  out: (text) => console.log(text),
  err: (text) => console.error(text),
  onStop: (stop, endWithinMs) => {
    const onSignal = (signal: NodeJS.Signals) => {
      for (const name of STOP_SIGNALS) process.off(name, onSignal);
      if (endWithinMs !== undefined) setTimeout(() => endLate(signal, endWithinMs), endWithinMs).unref();
      stop();
    };
    for (const name of STOP_SIGNALS) process.on(name, onSignal);
  },
};
