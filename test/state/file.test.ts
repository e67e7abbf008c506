import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileStateStore } from "../../src/state/file.js";
import { StateStoreError } from "../../src/state/types.js";
import { describeStoreContract } from "../helpers/store-contract.js";

let root: string;
let dirCounter = 0;

/** A clock the test moves by hand, so lock expiry needs no sleeping. */
function manualClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

/** A store in a fresh directory (not created yet: the store must create it). */
function newStore(clock = manualClock()) {
  const dir = join(root, `store-${++dirCounter}`, "nested");
  return { dir, clock, store: new FileStateStore({ dir, keyPrefix: "autoscalebot", clock }) };
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "autoscalebot-file-store-"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describeStoreContract("FileStateStore", () => {
  const { dir, clock, store } = newStore();
  return {
    store,
    elapse: (ms) => {
      clock.advance(ms);
      return Promise.resolve();
    },
    twin: () => new FileStateStore({ dir, keyPrefix: "autoscalebot", clock }),
    neighbour: () => new FileStateStore({ dir, keyPrefix: "other-app", clock }),
  };
});

describe("FileStateStore", () => {
  it("is of kind file", () => {
    expect(newStore().store.kind).toBe("file");
  });

  it("keeps the lock as numbered generation files with token and expiry", async () => {
    const { store, dir, clock } = newStore();
    const lockDir = join(dir, "autoscalebot.lock");
    await (await store.acquireLock(10_000))!.release();
    clock.advance(5);
    await store.acquireLock(10_000);
    // Superseded generations and temporary files are cleaned up.
    expect(await readdir(lockDir)).toEqual(["2.json"]);
    expect(JSON.parse(await readFile(join(lockDir, "2.json"), "utf8"))).toEqual({
      token: expect.any(String) as unknown,
      expiresAt: 1_000_000 + 5 + 10_000,
    });
  });

  it("holds the lock until it expires, to the millisecond", async () => {
    const { store, clock } = newStore();
    expect(await store.acquireLock(100)).not.toBeNull();
    clock.advance(99);
    expect(await store.acquireLock(10_000)).toBeNull();
    clock.advance(2);
    expect(await store.acquireLock(10_000)).not.toBeNull();
  });

  it("lets only one of many simultaneous acquirers win, also when taking over an expired lock", async () => {
    for (let round = 0; round < 50; round++) {
      const { store, clock } = newStore();
      const fresh = await Promise.all(Array.from({ length: 10 }, () => store.acquireLock(100)));
      expect(fresh.filter((lock) => lock !== null)).toHaveLength(1);
      clock.advance(200);
      const expiredHolder = fresh.find((lock) => lock !== null)!;
      const takeover = await Promise.all([
        ...Array.from({ length: 10 }, () => store.acquireLock(10_000)),
        expiredHolder.release().then(() => null),
      ]);
      expect(takeover.filter((lock) => lock !== null)).toHaveLength(1);
      expect(await store.acquireLock(10_000)).toBeNull();
    }
  });

  it("takes over a corrupt lock file", async () => {
    const { store, dir } = newStore();
    await store.acquireLock(10_000);
    await writeFile(join(dir, "autoscalebot.lock", "1.json"), "garbage");
    expect(await store.acquireLock(10_000)).not.toBeNull();
    expect(await store.acquireLock(10_000)).toBeNull();
  });

  it("overwrites the document, leaving no temporary files", async () => {
    const { store, dir } = newStore();
    const document = JSON.stringify({ version: 1, formations: { web: { quantity: 3 } }, note: "ünïcode ✓" });
    const lock = await store.acquireLock(10_000);
    await lock!.save("first");
    await lock!.save(document);
    await lock!.release();
    expect(await store.load()).toBe(document);
    expect((await readdir(dir)).sort()).toEqual(["autoscalebot.lock", "autoscalebot.state.json"]);
  });

  it("wraps file system failures in StateStoreError", async () => {
    const blocker = join(root, "a-file");
    await writeFile(blocker, "not a directory");
    const store = new FileStateStore({ dir: join(blocker, "sub"), keyPrefix: "x" });
    await expect(store.load()).rejects.toThrow(StateStoreError);
    await expect(store.load()).rejects.toThrow(/during load/);
    await expect(store.acquireLock(1_000)).rejects.toThrow(/during acquireLock/);
  });
});
