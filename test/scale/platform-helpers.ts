import { mkdtemp, rm } from "node:fs/promises";
import { inspect } from "node:util";
import { expect } from "vitest";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load.js";
import { runTick } from "../../src/engine/tick.js";
import type { TickReport } from "../../src/engine/report.js";
import { ManualClock } from "../../src/kit/clock.js";
import type { Env } from "../../src/kit/env.js";
import { startTargetApp } from "../../src/local/target-app.js";
import { MemoryNotifier } from "../../src/notify/memory.js";
import { ScaleError } from "../../src/scale/types.js";
import { FileStateStore } from "../../src/state/file.js";

/** The ScaleError a call rejects with, checked never to carry any of the secrets, however printed. */
export async function scaleError(promise: Promise<unknown>, secrets: readonly string[]): Promise<ScaleError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ScaleError);
  for (const secret of secrets) {
    expect(inspect(error)).not.toContain(secret);
    expect(JSON.stringify(error)).not.toContain(secret);
    expect(String(error)).not.toContain(secret);
  }
  return error as ScaleError;
}

/** The scaler never shows a secret, however it is printed. */
export function expectNoSecret(value: unknown, secrets: readonly string[]): void {
  for (const secret of secrets) {
    expect(inspect(value, { depth: 5 })).not.toContain(secret);
    expect(JSON.stringify(value)).not.toContain(secret);
    expect(String(value)).not.toContain(secret);
  }
}

export interface PlatformTick {
  report: TickReport;
  /** What the memory notifier was sent. */
  memory: MemoryNotifier;
}

/**
 * One real tick for one process `web` that scales through `scaling`: the app says it wants
 * `desired` processes (app-json), the state lives in files, notifications in memory.
 */
export async function tickWith(scaling: object, env: Env, desired: number): Promise<PlatformTick> {
  const app = await startTargetApp({ body: { desired } });
  const dir = await mkdtemp(join(tmpdir(), "autoscalebot-platform-"));
  try {
    const config = parseConfig({
      keyPrefix: "platform",
      processes: {
        web: {
          measurement: { backend: "app-json", url: `${app.url}/load` },
          decision: { minProcesses: 1, maxProcesses: 10 },
          scaling,
          notification: { backends: ["memory"], notifyOn: ["scale", "scale-failed"] },
        },
      },
    });
    const memory = new MemoryNotifier();
    const clock = new ManualClock(Date.parse("2026-06-01T12:00:00Z"));
    const store = new FileStateStore({ dir, keyPrefix: config.keyPrefix, clock });
    const report = await runTick(config, { clock, store, env, notifiers: { memory } });
    return { report, memory };
  } finally {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  }
}
