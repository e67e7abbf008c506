// The notify stage's public face: what the engine, the config and the tools may use.
export { createNotifiers, notificationSchema, type NotificationConfig, type Notifiers } from "./registry.js";
export { dispatch } from "./dispatch.js";
export { eventFactory, type EventFactory } from "./event-factory.js";
export { eventKinds, type AutoscaleEvent, type EventKind } from "./events.js";
export { isLasting, noticeSchema, trackConditions, type LastingKind, type Notices } from "./conditions.js";
export { tooRapidReason } from "./rules.js";
export { ConsoleNotifier } from "./console.js";
export { MemoryNotifier } from "./memory.js";
