/** What every StateStore promises about its lock and its document, tested once for each store. */
import { describe, expect, it } from "vitest";
import { LockLostError, type StateStore } from "../../src/state/types.js";
import { seedState } from "./stores.js";

export interface StoreFixture {
  /** A store of its own: no other test sees its lock or state. */
  store: StateStore;
  /** Lets `ms` pass for the store's lock expiry (a manual clock's advance, or a real wait). */
  elapse: (ms: number) => Promise<void>;
  /** Another store on the same storage and key prefix. */
  twin: () => StateStore;
  /** Another store on the same storage under another key prefix. */
  neighbour: () => StateStore;
}

export function describeStoreContract(name: string, makeStore: () => StoreFixture): void {
  describe(`${name}: the StateStore contract`, () => {
    it("gives the lock to one holder at a time", async () => {
      const { store } = makeStore();
      const lock = await store.acquireLock(10_000);
      expect(lock).not.toBeNull();
      expect(await store.acquireLock(10_000)).toBeNull();
      await lock!.release();
      expect(await store.acquireLock(10_000)).not.toBeNull();
    });

    it("lets the lock expire by itself", async () => {
      const { store, elapse } = makeStore();
      expect(await store.acquireLock(100)).not.toBeNull();
      await elapse(200);
      expect(await store.acquireLock(10_000)).not.toBeNull();
    });

    it("releases only its own lock", async () => {
      const { store, elapse } = makeStore();
      const ours = await store.acquireLock(100);
      await elapse(200);
      const theirs = await store.acquireLock(10_000);
      expect(theirs).not.toBeNull();
      await ours!.release();
      expect(await store.acquireLock(10_000)).toBeNull();
      await theirs!.release();
      expect(await store.acquireLock(10_000)).not.toBeNull();
    });

    it("shares the lock between stores on the same storage and key prefix", async () => {
      const { store, twin } = makeStore();
      expect(await store.acquireLock(10_000)).not.toBeNull();
      expect(await twin().acquireLock(10_000)).toBeNull();
    });

    it("keeps stores with different prefixes apart", async () => {
      const { store, neighbour } = makeStore();
      const other = neighbour();
      await seedState(store, "a");
      expect(await other.load()).toBeNull();
      expect(await store.acquireLock(10_000)).not.toBeNull();
      expect(await other.acquireLock(10_000)).not.toBeNull();
    });

    it("loads null when there is no state", async () => {
      expect(await makeStore().store.load()).toBeNull();
    });

    it("saves and loads the document unchanged", async () => {
      const { store } = makeStore();
      const document = JSON.stringify({
        version: 1,
        formations: { web: { quantity: 3 } },
        note: "ünïcode ✓",
      });
      const lock = await store.acquireLock(10_000);
      await lock!.save(document);
      expect(await store.load()).toBe(document);
      // Strings that look like other JSON values must stay strings (no automatic deserialization).
      await lock!.save("42");
      expect(await store.load()).toBe("42");
    });

    it("saves only while its lock holds: an expired lock's save is refused and writes nothing", async () => {
      const { store, elapse } = makeStore();
      const lock = await store.acquireLock(100);
      await lock!.save("ours");
      await elapse(200);
      await expect(lock!.save("late")).rejects.toBeInstanceOf(LockLostError);
      expect(await store.load()).toBe("ours");
    });

    it("never lets a lock's save overwrite what the next holder saved", async () => {
      const { store, elapse, twin } = makeStore();
      const slow = await store.acquireLock(100);
      await elapse(200);
      const newer = await twin().acquireLock(10_000);
      await newer!.save("newer");
      await expect(slow!.save("slow")).rejects.toBeInstanceOf(LockLostError);
      expect(await store.load()).toBe("newer");
      await newer!.release();
      // Released is not ours again either.
      await expect(newer!.save("after release")).rejects.toBeInstanceOf(LockLostError);
      expect(await store.load()).toBe("newer");
    });

    it("appends to the document while its lock holds, creating it when there is none; a save replaces both", async () => {
      const { store } = makeStore();
      const lock = await store.acquireLock(10_000);
      await lock!.append("\nfirst");
      expect(await store.load()).toBe("\nfirst");
      await lock!.save("document");
      await lock!.append("\nintent ✓");
      expect(await store.load()).toBe("document\nintent ✓");
      await lock!.save("saved");
      expect(await store.load()).toBe("saved");
    });

    it("appends only while its lock holds: an expired or superseded lock's append writes nothing", async () => {
      const { store, elapse, twin } = makeStore();
      const slow = await store.acquireLock(100);
      await slow!.save("ours");
      await elapse(200);
      await expect(slow!.append("\nlate")).rejects.toBeInstanceOf(LockLostError);
      const newer = await twin().acquireLock(10_000);
      await newer!.save("newer");
      await expect(slow!.append("\nslow")).rejects.toBeInstanceOf(LockLostError);
      expect(await store.load()).toBe("newer");
    });
  });
}
