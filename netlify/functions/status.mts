import type { Config } from "@netlify/functions";
import bundledConfig from "../../autoscale.config.json" with { type: "json" };
import { handleStatus } from "../../src/entry/netlify.js";

export const config: Config = { path: "/api/status" };

export default (request: Request): Promise<Response> => handleStatus(request, process.env, bundledConfig);
