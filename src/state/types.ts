/**
 * Where the tick keeps its one state document. Stores deal in raw strings; the versioned
 * codec (src/state/codec.ts) turns them into State, so a corrupt document never crashes a store.
 */
export interface StateStore {
  /** `upstash`, `file`, ... for reports; never a URL or token. */
  readonly kind: string;
  /** Takes the tick lock, which expires by itself after ttlMs. Null when another holder has it. */
  acquireLock(ttlMs: number): Promise<Lock | null>;
  /** The stored state document, or null when there is none. */
  load(): Promise<string | null>;
  save(document: string): Promise<void>;
  /**
   * Appends one tick's history entry (all its processes in one), keeping about the newest
   * `keep` entries: one command, whatever the number of processes.
   */
  appendHistory(entry: string, keep: number): Promise<void>;
  /** The newest `count` history entries, oldest first (reading history is never on the tick's path). */
  readHistory(count: number): Promise<string[]>;
}

export interface Lock {
  /** Releases the lock only if it is still ours (compare-and-delete). */
  release(): Promise<void>;
}

/** The store could not be reached or refused a command. */
export class StateStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StateStoreError";
  }
}
