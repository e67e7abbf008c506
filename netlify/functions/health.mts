import type { Config } from "@netlify/functions";
import bundledConfig from "../../autoscale.config.json" with { type: "json" };
import { handleHealth } from "../../src/entry/netlify.js";

export const config: Config = { path: "/api/health" };

export default (request: Request): Promise<Response> => handleHealth(request, process.env, bundledConfig);
