// The layering, checked by `npm run lint` (so by `npm test`): `depcruise src netlify packages/heartbeat/src`.
// Product layers, from the outside in: the entry points (src/entry for the Netlify functions in
// netlify/functions, src/cli for the command line), the engine, the config schema, the stages
// (measure, decide, scale, notify, state) and the kit of shared pieces. The tools (simulate, tools,
// demo, bench, local) sit beside the product: they may use it, it never uses them.
const STAGES = "(measure|decide|scale|notify|state)";
const TOOLS = "^src/(simulate|demo|bench|local|tools)/";

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: "no-circular",
      comment: "A cycle makes the load order matter and the layers meaningless.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "no-unresolvable",
      comment: "An import the cruiser cannot resolve is one no rule here can check.",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: "entry-points-apart",
      comment: "src/entry and src/cli are two faces of the same engine; neither imports the other.",
      severity: "error",
      from: { path: "^src/(entry|cli)/" },
      to: { path: "^src/(entry|cli)/", pathNot: "^src/$1/" },
    },
    {
      name: "engine-below-entry",
      comment: "The engine runs a tick for any entry point, so it knows none of them.",
      severity: "error",
      from: { path: "^src/engine/" },
      to: { path: "^src/(entry|cli|api)/" },
    },
    {
      name: "api-below-entry",
      comment:
        "src/api is the HTTP API both the Netlify functions and `autoscalebot dashboard` serve; it knows neither.",
      severity: "error",
      from: { path: "^src/api/" },
      to: { path: "^src/(entry|cli)/" },
    },
    {
      name: "view-runs-in-the-browser",
      comment:
        "src/view is bundled for the browser (src/tools/view.ts): it may read our types, never run our Node code.",
      severity: "error",
      from: { path: "^src/view/" },
      to: { path: "^(src|netlify)/", pathNot: "^src/view/", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "view-is-read-as-a-bundle",
      comment:
        "The product and the tools load the view as the built files in public/assets, never by import (types aside).",
      severity: "error",
      from: { path: "^(src|netlify)/", pathNot: ["^src/view/", "^src/tools/view\\.ts$"] },
      to: { path: "^src/view/", dependencyTypesNot: ["type-only"] },
    },
    {
      name: "config-below-engine",
      comment: "The config schema is made of the stages' schemas; it knows nothing above them.",
      severity: "error",
      from: { path: "^src/config/" },
      to: { path: "^src/(engine|entry|cli)/" },
    },
    {
      name: "stages-below-config",
      comment: "A stage knows its own settings and the kit; the engine wires the stages together.",
      severity: "error",
      from: { path: `^src/${STAGES}/` },
      to: { path: "^src/(engine|entry|cli|config)/" },
    },
    {
      name: "kit-is-a-leaf",
      comment: "The kit is shared by every layer, so it imports nothing of ours but itself.",
      severity: "error",
      from: { path: "^src/kit/" },
      to: { path: "^(src|netlify)/", pathNot: "^src/kit/" },
    },
    {
      name: "product-not-tools",
      comment:
        "The product never depends on the tools beside it; src/cli has the only exception (next rule).",
      severity: "error",
      from: { path: "^(src|netlify)/", pathNot: [TOOLS, "^src/cli/"] },
      to: { path: TOOLS },
    },
    {
      name: "cli-no-bench-or-local",
      comment: "The bench and the local servers are for tests, the demo and `npm run bench`, not the CLI.",
      severity: "error",
      from: { path: "^src/cli/" },
      to: { path: "^src/(bench|local)/" },
    },
    {
      name: "cli-tools-lazily",
      comment:
        "The CLI runs the simulator and the demo as subcommands, by dynamic import, so its other commands never load them.",
      severity: "error",
      from: { path: "^src/cli/" },
      to: { path: "^src/(simulate|demo)/", dependencyTypesNot: ["dynamic-import"] },
    },
    {
      name: "functions-reach-no-tools",
      comment:
        "Nothing a Netlify function can load, however indirectly, is a local server, the simulator or the demo.",
      severity: "error",
      from: { path: "^netlify/functions/" },
      to: { path: "^src/(local|simulate|demo|bench|tools)/", reachable: true },
    },
    {
      name: "heartbeat-standalone",
      comment: "The heartbeat helper runs inside the scaled apps, so it brings none of the autoscaler along.",
      severity: "error",
      from: { path: "^packages/heartbeat/" },
      to: { path: "^(src|netlify|packages)/", pathNot: "^packages/heartbeat/" },
    },
    {
      name: "stage-public-face",
      comment:
        "A stage imports another stage only through its public face (its index.ts), so a stage's files can change freely.",
      severity: "error",
      from: { path: `^src/${STAGES}/` },
      to: { path: `^src/${STAGES}/`, pathNot: ["^src/$1/", `^src/${STAGES}/index\\.ts$`] },
    },
    {
      name: "layers-use-public-faces",
      comment:
        "The engine, the config, the entry points and the tools use a stage through its public face too.",
      severity: "error",
      from: { path: "^src/(engine|config|entry|cli|api|simulate|demo|bench|tools)/" },
      to: { path: `^src/${STAGES}/`, pathNot: `^src/${STAGES}/index\\.ts$` },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsConfig: { fileName: "tsconfig.json" },
    // Type-only imports are dependencies too: they couple the layers as much as values do.
    tsPreCompilationDeps: true,
    // Unchanged files are not parsed again (the cache is keyed by content), so a lint stays fast.
    cache: { folder: "node_modules/.cache/dependency-cruiser", strategy: "content" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
    },
  },
};
