import { randomUUID } from "node:crypto";
import { startHerokuApi } from "../local/heroku-api.js";
import { startRailwayApi } from "../local/railway-api.js";
import { startRenderApi } from "../local/render-api.js";
import { startWebhookPlatform } from "../local/webhook-platform.js";
import type { Env } from "../kit/env.js";
import type { DemoPlatformName } from "./platform-names.js";

/**
 * The platforms the demo can scale, each through its real scaler against its local contract
 * server (src/local/): the scaler finds it through the same base-URL variable a user would set.
 */
export interface DemoPlatform {
  /** What the demo's first line says it talks to. */
  readonly describe: string;
  /** The process's `scaling` settings. */
  readonly scaling: Record<string, unknown>;
  /** The variables the scaler reads: its secret and its base URL. */
  readonly env: Env;
  /** The count the platform runs now. */
  quantity(): number;
  close(): Promise<void>;
}

const APP = "demo-app";
const SERVICE = "srv-d0demo0web000000000";
const RAILWAY_SERVICE = "2f9c4e1a-7b3d-4c8e-9a6f-1d2e3f4a5b6c";
const RAILWAY_ENVIRONMENT = "8a7b6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d";

const starters = {
  async heroku(initial: number, secret: string): Promise<DemoPlatform> {
    const api = await startHerokuApi({ apiKey: secret, apps: { [APP]: { web: initial } } });
    return {
      describe: `Heroku-compatible API ${api.url} (app ${APP})`,
      scaling: { backend: "heroku", app: APP, processType: "web" },
      env: { HEROKU_API_KEY: secret, HEROKU_API_URL: api.url },
      quantity: () => api.quantity(APP, "web") ?? 0,
      close: () => api.close(),
    };
  },
  async render(initial: number, secret: string): Promise<DemoPlatform> {
    const api = await startRenderApi({ apiKey: secret, services: { [SERVICE]: initial } });
    return {
      describe: `Render-compatible API ${api.url} (service ${SERVICE})`,
      scaling: { backend: "render", serviceId: SERVICE },
      env: { RENDER_API_KEY: secret, RENDER_API_URL: api.url },
      quantity: () => api.numInstances(SERVICE) ?? 0,
      close: () => api.close(),
    };
  },
  async railway(initial: number, secret: string): Promise<DemoPlatform> {
    const key = `${RAILWAY_SERVICE}/${RAILWAY_ENVIRONMENT}`;
    const api = await startRailwayApi({ token: secret, instances: { [key]: initial } });
    return {
      describe: `Railway-compatible GraphQL API ${api.url} (service ${RAILWAY_SERVICE})`,
      scaling: { backend: "railway", serviceId: RAILWAY_SERVICE, environmentId: RAILWAY_ENVIRONMENT },
      env: { RAILWAY_API_TOKEN: secret, RAILWAY_API_URL: api.url },
      quantity: () => api.numReplicas(RAILWAY_SERVICE, RAILWAY_ENVIRONMENT) ?? 1,
      close: () => api.close(),
    };
  },
  async webhook(initial: number, secret: string): Promise<DemoPlatform> {
    const api = await startWebhookPlatform({
      authHeader: "Authorization",
      secret,
      formations: { web: initial },
    });
    return {
      describe: `a platform's own endpoint ${api.url}/formations/web (the webhook scaler)`,
      scaling: {
        backend: "webhook",
        url: `${api.url}/formations/web`,
        headersFromEnv: { Authorization: "DEMO_PLATFORM_AUTH" },
      },
      env: { DEMO_PLATFORM_AUTH: secret },
      quantity: () => api.count("web") ?? 0,
      close: () => api.close(),
    };
  },
} satisfies Record<DemoPlatformName, (initial: number, secret: string) => Promise<DemoPlatform>>;

/** Starts the local stand-in of `name`, running `initial` processes, with a fresh secret. */
export const startDemoPlatform = (name: DemoPlatformName, initial: number): Promise<DemoPlatform> =>
  starters[name](initial, `demo-${randomUUID()}`);
