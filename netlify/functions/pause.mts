import type { Config } from "@netlify/functions";
import bundledConfig from "../../autoscale.config.json" with { type: "json" };
import { handlePause } from "../../src/entry/netlify.js";

export const config: Config = { path: "/api/pause" };

export default (request: Request): Promise<Response> => handlePause(request, process.env, bundledConfig);
