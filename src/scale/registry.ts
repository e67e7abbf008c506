import { z } from "zod";
import { envName, integer } from "../kit/fields.js";
import { HerokuFormationScaler } from "./heroku.js";
import { ScaleError, type Scaler } from "./types.js";

export const herokuScalingSchema = z.strictObject({
  backend: z.literal("heroku"),
  app: z
    .string()
    .regex(/^[a-z][a-z0-9-]{1,28}[a-z0-9]$|^[0-9a-f-]{36}$/, { error: "expected a Heroku app name or id" }),
  /** Defaults to the process's own name. */
  processType: z
    .string()
    .regex(/^[-\w]{1,128}$/, { error: "expected a Heroku process type" })
    .optional(),
  /** The variable that holds the API key: secrets never live in the config. */
  apiKeyEnv: envName.default("HEROKU_API_KEY"),
  /** Heroku answers in well under a second; 5 s leaves the tick room for a slow heartbeat. */
  timeoutMs: integer(1, 28_000).default(5000),
});

/** Every scaling backend by its `backend` name: one schema entry and one factory entry each. */
export const scalingSchema = z.discriminatedUnion("backend", [herokuScalingSchema]);
export type ScalingConfig = z.infer<typeof scalingSchema>;

type Env = Record<string, string | undefined>;

export const DEFAULT_HEROKU_API_URL = "https://api.heroku.com";

/** Builds the scaler for one process; a missing secret is a ScaleError the tick reports for that process. */
export function createScaler(config: ScalingConfig, processName: string, env: Env): Scaler {
  switch (config.backend) {
    case "heroku": {
      const apiKey = env[config.apiKeyEnv];
      if (!apiKey) throw new ScaleError("missing_api_key", `${config.apiKeyEnv} is not set`);
      return new HerokuFormationScaler({
        baseUrl: env.HEROKU_API_URL || DEFAULT_HEROKU_API_URL,
        apiKey,
        app: config.app,
        processType: config.processType ?? processName,
        timeoutMs: config.timeoutMs,
      });
    }
  }
}
