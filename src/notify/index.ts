// The notify stage's public face: what the engine, the config and the tools may use.
export { createNotifiers, notificationSchema, type Notifiers } from "./registry.js";
export { dispatch } from "./dispatch.js";
export { eventFactory, type EventFactory } from "./event-factory.js";
export type { AutoscaleEvent, EventKind } from "./events.js";
export { isLasting, noticeSchema, trackConditions, type LastingKind } from "./conditions.js";
export { tooRapidReason } from "./rules.js";
export { ConsoleNotifier } from "./console.js";
export { LogNotifier } from "./log.js";
