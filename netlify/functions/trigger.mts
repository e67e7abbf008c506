import type { Config } from "@netlify/functions";
import bundledConfig from "../../autoscale.config.json" with { type: "json" };
import { handleTrigger } from "../../src/entry/netlify.js";

export const config: Config = { path: "/api/tick" };

export default (request: Request): Promise<Response> => handleTrigger(request, process.env, bundledConfig);
