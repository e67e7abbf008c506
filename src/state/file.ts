import { randomUUID } from "node:crypto";
import {
  appendFile,
  link,
  mkdir,
  readdir,
  readFile,
  rename,
  stat,
  unlink,
  writeFile,
} from "node:fs/promises";
import { join } from "node:path";
import { LockLostError, StateStoreError, STORE_TIMEOUT_MS, type Lock, type StateStore } from "./types.js";

export interface FileStateStoreOptions {
  dir: string;
  /** Names the files: `<keyPrefix>.state.json` and the `<keyPrefix>.lock/` directory. */
  keyPrefix: string;
  /** Decides lock expiry; injectable so tests need not sleep. */
  clock?: { now(): number };
  /** How long one call may take before it fails as unanswered (a hung disk). Default STORE_TIMEOUT_MS. */
  timeoutMs?: number;
}

interface LockFile {
  token: string;
  expiresAt: number;
  released?: true;
}

const GENERATION_FILE = /^(\d+)\.json$/;

/**
 * State in local files, for the demo and for running without Upstash.
 *
 * Files have no compare-and-delete, so taking over an expired lock by deleting and recreating
 * one file lets two processes win. Instead each acquisition creates the next numbered
 * "generation" file in `<keyPrefix>.lock/`, exclusively; the newest generation is the lock.
 * Exactly one process can create a given generation, an expired or released generation is
 * simply superseded, and a crash can never leave a lock that blocks forever. A save is fenced by
 * its generation: it lands only while that generation is the newest, unexpired and unreleased,
 * checked right before the rename that writes it (the file store serves one machine: the demo,
 * the CLI; its fence has the few microseconds between that check and the rename, Upstash none).
 */
export class FileStateStore implements StateStore {
  readonly kind = "file";
  readonly timeoutMs: number;
  readonly #dir: string;
  readonly #statePath: string;
  readonly #historyPath: string;
  readonly #lockDir: string;
  readonly #clock: { now(): number };

  constructor(options: FileStateStoreOptions) {
    this.#dir = options.dir;
    this.#statePath = join(options.dir, `${options.keyPrefix}.state.json`);
    this.#historyPath = join(options.dir, `${options.keyPrefix}.history.jsonl`);
    this.#lockDir = join(options.dir, `${options.keyPrefix}.lock`);
    this.#clock = options.clock ?? Date;
    this.timeoutMs = options.timeoutMs ?? STORE_TIMEOUT_MS;
  }

  async acquireLock(ttlMs: number): Promise<Lock | null> {
    return this.#run("acquireLock", async () => {
      await mkdir(this.#lockDir, { recursive: true });
      const latest = Math.max(0, ...(await this.#generations()));
      const holder = latest > 0 ? await this.#readLock(latest) : null;
      if (holder && !holder.released && holder.expiresAt > this.#clock.now()) return null;

      const generation = latest + 1;
      const lock: LockFile = { token: randomUUID(), expiresAt: this.#clock.now() + ttlMs };
      if (!(await this.#createExclusively(this.#lockPath(generation), JSON.stringify(lock)))) return null;
      // Our listing may have been stale: a newer generation means someone else won.
      const generations = await this.#generations();
      if (generations.some((other) => other > generation)) {
        await unlinkIfPresent(this.#lockPath(generation));
        return null;
      }
      // Superseded generations are history; dropping them keeps the directory small.
      await Promise.all(
        generations.filter((old) => old < generation).map((old) => unlinkIfPresent(this.#lockPath(old))),
      );
      return {
        save: (document) => this.#save(generation, lock, "save", () => Promise.resolve(document)),
        // Files cannot append atomically, so the document is written again with the text after it.
        append: (text) =>
          this.#save(generation, lock, "append", async () => ((await this.#read()) ?? "") + text),
        release: () => this.#release(generation, lock),
      };
    });
  }

  async load(): Promise<string | null> {
    return this.#run("load", () => this.#read());
  }

  #read(): Promise<string | null> {
    return unlessCode("ENOENT", null, () => readFile(this.#statePath, "utf8"));
  }

  /** The fenced save: written (then renamed into place) only while our generation holds the lock. */
  async #save(
    generation: number,
    lock: LockFile,
    operation: string,
    content: () => Promise<string>,
  ): Promise<void> {
    await this.#run(operation, async () => {
      await mkdir(this.#dir, { recursive: true });
      // Write then rename, so a reader or a crash never sees half a document.
      await this.#withTemporaryFile(this.#dir, await content(), async (temporaryPath) => {
        if (!(await this.#holds(generation, lock))) throw new LockLostError(this.kind);
        await rename(temporaryPath, this.#statePath);
      });
    });
  }

  /** Whether our generation is still the lock: the newest, ours, unreleased and unexpired. */
  async #holds(generation: number, lock: LockFile): Promise<boolean> {
    if (Math.max(0, ...(await this.#generations())) !== generation) return false;
    const current = await this.#readLock(generation);
    return current?.token === lock.token && !current.released && current.expiresAt > this.#clock.now();
  }

  /**
   * One line per tick. The file is capped: once it is a tenth over `keep` entries it is rewritten
   * with the newest `keep` (write then rename), so most appends only append.
   */
  async appendHistory(entry: string, keep: number): Promise<void> {
    await this.#run("appendHistory", async () => {
      await mkdir(this.#dir, { recursive: true });
      await appendFile(this.#historyPath, `${entry.replace(/\n/g, " ")}\n`);
      // Sized by this entry, so the file is read only when it is likely over the cap.
      if ((await stat(this.#historyPath)).size <= (entry.length + 1) * keep * 1.1) return;
      const lines = (await readFile(this.#historyPath, "utf8")).split("\n").filter(Boolean);
      if (lines.length <= keep) return;
      const kept = `${lines.slice(-keep).join("\n")}\n`;
      await this.#withTemporaryFile(this.#dir, kept, (temporaryPath) =>
        rename(temporaryPath, this.#historyPath),
      );
    });
  }

  async readHistory(count: number): Promise<string[]> {
    return this.#run("readHistory", () =>
      unlessCode("ENOENT", [], async () =>
        (await readFile(this.#historyPath, "utf8")).split("\n").filter(Boolean).slice(-count),
      ),
    );
  }

  /** Marks our generation released; a newer generation (someone else's) is never touched. */
  async #release(generation: number, lock: LockFile): Promise<void> {
    await this.#run("release", async () => {
      const current = await this.#readLock(generation);
      if (current?.token !== lock.token) return;
      const released: LockFile = { ...lock, released: true };
      await this.#withTemporaryFile(this.#lockDir, JSON.stringify(released), (temporaryPath) =>
        rename(temporaryPath, this.#lockPath(generation)),
      );
    });
  }

  #lockPath(generation: number): string {
    return join(this.#lockDir, `${generation}.json`);
  }

  async #generations(): Promise<number[]> {
    const names = await readdir(this.#lockDir);
    return names.flatMap((name) => {
      const match = GENERATION_FILE.exec(name);
      return match ? [Number(match[1])] : [];
    });
  }

  /** A generation's lock; null when it is gone or unreadable (treated as free, so it cannot block forever). */
  async #readLock(generation: number): Promise<LockFile | null> {
    try {
      const parsed = JSON.parse(await readFile(this.#lockPath(generation), "utf8")) as Partial<LockFile>;
      if (typeof parsed.token === "string" && typeof parsed.expiresAt === "number") return parsed as LockFile;
    } catch (error) {
      if (!isCode(error, "ENOENT") && !(error instanceof SyntaxError)) throw error;
    }
    return null;
  }

  /**
   * Creates a file with its full content, or returns false when it already exists. A hard link
   * from a finished temporary file is both exclusive and atomic; `wx` would expose an empty file
   * to readers until the write lands.
   */
  #createExclusively(path: string, content: string): Promise<boolean> {
    return unlessCode("EEXIST", false, async () => {
      await this.#withTemporaryFile(this.#lockDir, content, (temporaryPath) => link(temporaryPath, path));
      return true;
    });
  }

  /** Writes content to a temporary file in dir, hands it to use (rename or link), then removes what is left. */
  async #withTemporaryFile(
    dir: string,
    content: string,
    use: (path: string) => Promise<void>,
  ): Promise<void> {
    const temporaryPath = join(dir, `.${randomUUID()}.tmp`);
    try {
      await writeFile(temporaryPath, content, "utf8");
      await use(temporaryPath);
    } finally {
      await unlinkIfPresent(temporaryPath);
    }
  }

  /** Runs one call within timeoutMs; a call that overruns it fails as unanswered (it may still finish). */
  async #run<T>(operation: string, action: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const overrun = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new StateStoreError(`File state store did not finish ${operation} within ${this.timeoutMs} ms`, {
              unclear: true,
            }),
          ),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([action(), overrun]);
    } catch (error) {
      if (error instanceof StateStoreError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new StateStoreError(`File state store failed during ${operation}: ${reason}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }
}

const unlinkIfPresent = (path: string): Promise<void> => unlessCode("ENOENT", undefined, () => unlink(path));

/** What `attempt` gives, or `fallback` when it fails with the file-system error `code` (any other error is thrown). */
async function unlessCode<T>(code: string, fallback: T, attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt();
  } catch (error) {
    if (isCode(error, code)) return fallback;
    throw error;
  }
}

function isCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
