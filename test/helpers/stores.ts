import { createServer } from "node:http";
import { close, listen, readBody } from "../../src/local/listen.js";
import type { Lock, StateStore } from "../../src/state/types.js";

/**
 * A real store with a hook before each state write (the lock's fenced save, or its append of a
 * tick's scale intents, which the hook sees as the appended text): the hook may wait (a tick
 * stalled past its lock's expiry) or throw (a save that failed after a scale went through).
 * Everything else goes to the real store; nothing of the engine is replaced.
 */
export function withSaveHook(
  store: StateStore,
  beforeSave: (document: string) => Promise<void> | void,
): StateStore {
  const wrapLock = (lock: Lock): Lock => ({
    save: async (document) => {
      await beforeSave(document);
      return lock.save(document);
    },
    append: async (text) => {
      await beforeSave(text);
      return lock.append(text);
    },
    release: () => lock.release(),
  });
  return {
    kind: store.kind,
    timeoutMs: store.timeoutMs,
    acquireLock: async (ttlMs) => {
      const lock = await store.acquireLock(ttlMs);
      return lock && wrapLock(lock);
    },
    load: () => store.load(),
    appendHistory: (entry, keep) => store.appendHistory(entry, keep),
    readHistory: (count) => store.readHistory(count),
  };
}

/**
 * Writes a state document as a holder of the lock would (tests plant state so: the store has no
 * unfenced write).
 */
export async function seedState(store: StateStore, document: string): Promise<void> {
  const lock = await store.acquireLock(10_000);
  if (!lock) throw new Error("seedState: the lock is held");
  try {
    await lock.save(document);
  } finally {
    await lock.release();
  }
}

/** A promise and its resolver, for a test to step a stalled call forward. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * A real store whose saves wait until `release()` (a holder frozen past its lock's expiry):
 * `reached` resolves once the first of them waits.
 */
export function stallSaves(store: StateStore): {
  store: StateStore;
  reached: Promise<void>;
  release: () => void;
} {
  const reached = deferred();
  const go = deferred();
  const stalled = withSaveHook(store, async () => {
    reached.resolve();
    await go.promise;
  });
  return { store: stalled, reached: reached.promise, release: go.resolve };
}

export interface UpstashProxy {
  url: string;
  /** Commands forwarded or held, in order (name upper-cased, then the arguments). */
  commands: string[][];
  close(): Promise<void>;
}

/**
 * An HTTP proxy in front of the Upstash REST front that never answers the commands `hang`
 * picks (a store that stops answering mid-tick); the others go through unchanged, so the real
 * @upstash/redis client runs into its own timeout on those and only those.
 */
export async function startUpstashProxy(
  target: string,
  hang: (command: string[]) => boolean,
): Promise<UpstashProxy> {
  const commands: string[][] = [];
  const server = createServer((request, response) => {
    void (async () => {
      const body = await readBody(request);
      const command = (JSON.parse(body) as unknown[]).map(String);
      command[0] = command[0]!.toUpperCase();
      commands.push(command);
      if (hang(command)) return; // no answer, ever: the client's own timeout has to end it
      const answer = await fetch(`${target}${request.url ?? "/"}`, {
        method: "POST",
        headers: { authorization: request.headers.authorization ?? "", "content-type": "application/json" },
        body,
      });
      response.writeHead(answer.status, { "content-type": "application/json" });
      response.end(await answer.text());
    })().catch((error: unknown) => {
      response.writeHead(502);
      response.end(JSON.stringify({ error: String(error) }));
    });
  });
  const url = await listen(server);
  return { url, commands, close: () => close(server) };
}
