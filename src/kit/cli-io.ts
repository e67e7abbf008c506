import type { Env } from "./env.js";
/** Where the CLI reads its environment and writes: the process's own, or a test's. */
export interface CliIo {
  env: Env;
  /** Properties, not methods: they are passed on as plain functions (a notifier's `write`). */
  out: (text: string) => void;
  err: (text: string) => void;
  /** Registers what stops `run` (the process: SIGINT and SIGTERM). */
  onStop: (stop: () => void) => void;
}

export const processIo: CliIo = {
  env: process.env,
  out: (text) => console.log(text),
  err: (text) => console.error(text),
  onStop: (stop) => process.once("SIGINT", stop).once("SIGTERM", stop),
};
