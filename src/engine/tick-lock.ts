import { within } from "../kit/within.js";
import { LockLostError, StateStoreError, type Lock, type StateStore } from "../state/index.js";

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
  /** Milliseconds the release may still take when the work is done (default: the store's timeout). */
  releaseWithinMs?: () => number;
}

/** What the work may do with the lock it holds: save or append to the state document, fenced by the lock. */
export type HeldLock = Pick<Lock, "save" | "append">;

/**
 * Runs `work` holding the tick lock (`<prefix>:lock`), the one that keeps two ticks, or a tick and a
 * pause, from writing the state document over each other; its saves are fenced by the lock.
 * Releases it afterwards whatever happened, except after a save that was refused (the lock is no
 * longer ours) or got no clear answer: that save may still land, so the lock is kept until it
 * expires, and no other holder reads or writes the document before it has. Null when another
 * holder kept the lock for all of `retryForMs`.
 */
export async function withTickLock<T>(
  store: StateStore,
  options: TickLockOptions,
  work: (lock: HeldLock) => Promise<T>,
): Promise<{ value: T } | null> {
  const lock = await acquire(store, options.ttlMs, options.retryForMs ?? 0);
  if (!lock) return null;
  let release = true;
  // A write refused by the fence, or without a clear answer, may still land: the lock is kept.
  const fenced =
    (write: (text: string) => Promise<void>) =>
    async (text: string): Promise<void> => {
      try {
        await write(text);
      } catch (error) {
        if (error instanceof LockLostError || (error instanceof StateStoreError && error.unclear))
          release = false;
        throw error;
      }
    };
  const held: HeldLock = { save: fenced((d) => lock.save(d)), append: fenced((t) => lock.append(t)) };
  try {
    return { value: await work(held) };
  } finally {
    if (release) {
      const released = await within(lock.release(), options.releaseWithinMs?.() ?? store.timeoutMs).catch(
        (error: unknown) => {
          options.onReleaseFailure?.(error);
          return null;
        },
      );
      if (released === "late") options.onReleaseFailure?.(new Error("no answer in the time left"));
    }
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
