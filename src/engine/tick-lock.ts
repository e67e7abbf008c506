import type { Lock, StateStore } from "../state/index.js";

/** Margin over the holder's own deadline for the lock's expiry, so a killed function never blocks the next minute. */
export const LOCK_MARGIN_MS = 5000;

/** How often a waiting holder asks again. */
const RETRY_EVERY_MS = 200;

export interface TickLockOptions {
  /** The lock expires by itself after this long. */
  ttlMs: number;
  /** How long to keep asking while another holder has it, in real milliseconds (default 0: once). */
  retryForMs?: number;
  /** A release that failed (the lock then expires by itself). */
  onReleaseFailure?: (error: unknown) => void;
}

/**
 * Runs `work` holding the tick lock (`<prefix>:lock`), the one that keeps two ticks, or a tick and a
 * pause, from writing the state document over each other; releases it afterwards whatever happened.
 * Null when another holder kept it for all of `retryForMs`.
 */
export async function withTickLock<T>(
  store: StateStore,
  options: TickLockOptions,
  work: () => Promise<T>,
): Promise<{ value: T } | null> {
  const lock = await acquire(store, options.ttlMs, options.retryForMs ?? 0);
  if (!lock) return null;
  try {
    return { value: await work() };
  } finally {
    await lock.release().catch((error: unknown) => options.onReleaseFailure?.(error));
  }
}

async function acquire(store: StateStore, ttlMs: number, retryForMs: number): Promise<Lock | null> {
  const giveUpAt = performance.now() + retryForMs;
  for (;;) {
    const lock = await store.acquireLock(ttlMs);
    const left = giveUpAt - performance.now();
    if (lock || left <= 0) return lock;
    await new Promise((resolve) => setTimeout(resolve, Math.min(RETRY_EVERY_MS, left)));
  }
}
