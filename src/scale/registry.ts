import type { Env } from "../kit/env.js";
import { backendRegistry, type AnySchema } from "../kit/registry.js";
import { heroku } from "./heroku.js";
import { railway } from "./railway.js";
import { render } from "./render.js";
import type { ScaleError, Scaler, ScalingBackend } from "./types.js";
import { webhook } from "./webhook.js";

/** Every scaling backend: a new one is a file exporting its descriptor, and a line here. */
const scalings = backendRegistry([heroku, render, railway, webhook]);

export const scalingSchema = scalings.schema;
export type ScalingConfig = typeof scalingSchema._output;

// The discriminated union guarantees a config matches the descriptor its `backend` names.
const of = (config: ScalingConfig): ScalingBackend<AnySchema> => scalings.of(config);

/** Builds the scaler for one process; a missing secret is a ScaleError the tick reports for that process. */
export const createScaler = (config: ScalingConfig, processName: string, env: Env): Scaler =>
  of(config).create(config, processName, env);
export const scalingBudgetMs = (config: ScalingConfig): number => of(config).budgetMs(config);
export const formationOf = (config: ScalingConfig, processName: string): string =>
  `${config.backend}:${of(config).formation(config, processName)}`;
export const scalingSecretEnv = (config: ScalingConfig): string[] => of(config).secretEnv(config);
export const scalingAdvice = (config: ScalingConfig, error: ScaleError): string =>
  of(config).advice(error, config);
