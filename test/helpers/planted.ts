import { randomUUID } from "node:crypto";

/**
 * The secrets tests plant (API keys, tokens, passwords), generated per run and registered, so the
 * suite can check that none of them ever appears in what a test prints or a child process it
 * started writes (test/setup/no-planted-secrets.ts). Shared through globalThis: one registry for
 * a test file, its helpers and its setup, whatever module instance imports it.
 */
interface Registry {
  secrets: Map<string, string>;
  /** What left the code under test since the registry's owner last looked. */
  output: string[];
}
const KEY = Symbol.for("autoscalebot.test.planted");
const registry: Registry = ((globalThis as Record<symbol, Registry | undefined>)[KEY] ??= {
  secrets: new Map(),
  output: [],
});

/** A fresh secret for `label` (e.g. "heroku-api-key"), registered as planted. */
export function plant(label: string): string {
  const secret = `${label}-${randomUUID().replaceAll("-", "")}`;
  registry.secrets.set(secret, label);
  return secret;
}

/** Output a helper collected (a child process's stdout and stderr): checked like the console's. */
export function recordOutput(text: string): void {
  registry.output.push(text);
}

/** The labels of the planted secrets found in `text`; never the secrets themselves. */
export function plantedIn(text: string): string[] {
  return [...registry.secrets].filter(([secret]) => text.includes(secret)).map(([, label]) => label);
}

/** The output recorded since the last call, handed over once. */
export function takeOutput(): string {
  return registry.output.splice(0).join("\n");
}

/** Throws, naming the labels, when the output recorded since the last check holds a planted secret. */
export function checkOutput(where: string): void {
  const found = plantedIn(takeOutput());
  if (found.length > 0)
    throw new Error(
      `${where} printed planted secrets (${[...new Set(found)].join(", ")}): something leaks them`,
    );
}
