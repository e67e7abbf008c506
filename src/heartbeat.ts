/**
 * `autoscalebot/heartbeat`, kept for apps that import it from this package: the helper itself is
 * the workspace package packages/heartbeat (`@autoscalebot/heartbeat`), which an app can install
 * alone since it has no dependencies. It is bundled into this package's tarball (see
 * bundleDependencies in package.json), so a git install of autoscalebot finds it without the registry.
 */
export * from "@autoscalebot/heartbeat";
