/**
 * Where the tick keeps its one state document. Stores deal in raw strings; the versioned
 * codec (src/engine/state-document.ts) turns them into State, so a corrupt document never
 * crashes a store. The document is written only through a held lock (`Lock.save`, `Lock.append`),
 * fenced by it: a holder whose lock expired can no longer overwrite what a newer holder wrote.
 */
export interface StateStore {
  /** `upstash`, `file`, ... for reports; never a URL or token. */
  readonly kind: string;
  /**
   * The longest one call takes before it fails, retries included. The tick keeps this much of
   * its deadline for its save, so the save always gets its whole timeout.
   */
  readonly timeoutMs: number;
  /** Takes the tick lock, which expires by itself after ttlMs. Null when another holder has it. */
  acquireLock(ttlMs: number): Promise<Lock | null>;
  /** The stored state document, or null when there is none. */
  load(): Promise<string | null>;
  /**
   * Appends one tick's history entry (all its processes in one), keeping about the newest
   * `keep` entries: one command, whatever the number of processes.
   */
  appendHistory(entry: string, keep: number): Promise<void>;
  /** The newest `count` history entries, oldest first (reading history is never on the tick's path). */
  readHistory(count: number): Promise<string[]>;
}

export interface Lock {
  /**
   * Writes the state document only while this lock is still ours, neither expired nor taken
   * over, in one command; otherwise writes nothing and throws a LockLostError.
   */
  save(document: string): Promise<void>;
  /**
   * Appends `text` to the stored document (creating it when there is none) only while this lock
   * is still ours, in one command; otherwise writes nothing and throws a LockLostError. Only the
   * text travels: a tick's scale intents cost their own few bytes, not the whole document's.
   */
  append(text: string): Promise<void>;
  /** Releases the lock only if it is still ours (compare-and-delete). */
  release(): Promise<void>;
}

/** The store could not be reached or refused a command. */
export class StateStoreError extends Error {
  /**
   * True when no answer came (a timeout, a dropped connection): a write may still have landed,
   * or may land yet. False when the store answered, with an error.
   */
  readonly unclear: boolean;
  constructor(message: string, options?: { cause?: unknown; unclear?: boolean }) {
    super(message, options);
    this.name = "StateStoreError";
    this.unclear = options?.unclear ?? false;
  }
}

/** A fenced save refused: the lock expired, or another holder has it now. Nothing was written. */
export class LockLostError extends StateStoreError {
  constructor(kind: string) {
    super(
      `the ${kind} store's lock is no longer ours (it expired, or another holder took it): nothing written`,
    );
    this.name = "LockLostError";
  }
}

/** The longest one store command may take, retries included (the Upstash client's timeout). */
export const STORE_TIMEOUT_MS = 5_000;
