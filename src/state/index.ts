// The state stage's public face: what the engine, the entry points and the tools may use.
export { createStateStore, emulatedLocally, StoreConfigError } from "./select.js";
export { FileStateStore } from "./file.js";
export { UpstashStateStore } from "./upstash.js";
export { LockLostError, StateStoreError, STORE_TIMEOUT_MS, type Lock, type StateStore } from "./types.js";
