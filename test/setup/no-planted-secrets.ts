import { format } from "node:util";
import { afterAll, afterEach } from "vitest";
import { checkOutput, recordOutput } from "../helpers/planted.js";

/**
 * No output of any test holds a secret it planted: what a test (or the code it runs) writes to
 * the console or to stdout and stderr, and what its child processes wrote (recorded by the
 * helpers that started them), is searched for every planted secret after each test and each
 * file's hooks. A find fails the test, naming the secret's label, never the secret. Cheap: a few
 * substring searches over the test's own output.
 */
for (const method of ["log", "info", "warn", "error", "debug", "trace"] as const) {
  const original = console[method].bind(console);
  console[method] = (...args: unknown[]) => {
    recordOutput(format(...args));
    original(...args);
  };
}
for (const stream of [process.stdout, process.stderr]) {
  const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = (chunk: unknown, ...rest: unknown[]) => {
    recordOutput(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString());
    return original(chunk, ...rest);
  };
}

afterEach(() => checkOutput("this test"));
afterAll(() => checkOutput("this file's hooks"));
