import type { Config } from "@netlify/functions";
import bundledConfig from "../../autoscale.config.json" with { type: "json" };
import { handleResume } from "../../src/entry/netlify.js";

export const config: Config = { path: "/api/resume" };

export default (request: Request): Promise<Response> => handleResume(request, process.env, bundledConfig);
