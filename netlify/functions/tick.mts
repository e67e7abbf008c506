import type { Config } from "@netlify/functions";
import bundledConfig from "../../autoscale.config.json" with { type: "json" };
import { handleScheduled } from "../../src/entry/netlify.js";

// Every minute: Netlify accepts cron expressions here, not `@every`.
export const config: Config = { schedule: "* * * * *" };

export default async (): Promise<void> => {
  await handleScheduled(process.env, bundledConfig);
};
