/** The platforms `demo --platform` scales (./platforms.ts starts each one's stand-in); apart, so the CLI's help loads no server. */
export const DEMO_PLATFORMS = ["heroku", "render", "railway", "webhook"] as const;
export type DemoPlatformName = (typeof DEMO_PLATFORMS)[number];
export const isDemoPlatform = (name: string): name is DemoPlatformName =>
  (DEMO_PLATFORMS as readonly string[]).includes(name);
