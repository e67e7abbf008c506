/**
 * The heartbeat helper for the app being scaled: `createHeartbeat` builds a Fetch API handler
 * that runs the app's own checks and reports what the `service-time`, `queue-time` and
 * `response-time` measurements read; the adapters mount it on Node's http server or Express.
 * `createRequestMetrics` counts every request the app serves (through `withRequestMetrics`,
 * `withNodeRequestMetrics` or `expressRequestMetrics`), for the `request-metrics` measurement.
 * The package imports nothing but its own modules (and Node's types, in the adapters), so it adds
 * no dependency to the app; the autoscaler re-exports it as `autoscalebot/heartbeat`.
 */
export {
  createHeartbeat,
  DEFAULT_TIMEOUT_MS,
  metricName,
  type HeartbeatBody,
  type HeartbeatCheck,
  type HeartbeatCheckResult,
  type HeartbeatHandler,
  type HeartbeatOptions,
} from "./handler.js";
export {
  toExpressMiddleware,
  toNodeListener,
  toRequest,
  writeResponse,
  type ExpressLikeRequest,
  type ExpressMiddleware,
  type FetchHandler,
  type NextFunction,
  type NodeListener,
  type NodeListenerOptions,
  expressRequestMetrics,
  withNodeRequestMetrics,
} from "./node.js";
export { requestQueueTimeMs, requestStartMs } from "./queue-time.js";
export {
  createRequestMetrics,
  DEFAULT_WINDOW_SECONDS,
  withRequestMetrics,
  type QueueTimeSummary,
  type RequestMetrics,
  type RequestMetricsOptions,
  type RequestMetricsSummary,
} from "./request-metrics.js";
export { reportedQueueMs } from "./queue-histogram.js";
