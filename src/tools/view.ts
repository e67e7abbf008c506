/**
 * Bundles the browser code (src/view) with uPlot into public/assets: the dashboard's script and
 * style, which the site serves, and the simulator report's, which `simulate --report` inlines.
 * Run by `npm run build` (so by `npm ci`, and by Netlify's build), and by the tests' global setup.
 * Nothing is fetched at view time: no CDN, no font.
 */
import { build } from "esbuild";
import { fileURLToPath } from "node:url";

// dist/tools/view.js and src/tools/view.ts both sit two levels below the repository root.
const root = new URL("../../", import.meta.url);

export async function buildView(): Promise<string[]> {
  const result = await build({
    absWorkingDir: fileURLToPath(root),
    entryPoints: ["src/view/dashboard.ts", "src/view/sim-report.ts"],
    outdir: "public/assets",
    bundle: true,
    minify: true,
    format: "iife",
    target: ["es2022"],
    legalComments: "eof",
    metafile: true,
    logLevel: "warning",
  });
  return Object.keys(result.metafile.outputs);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const file of await buildView()) console.log(`wrote ${file}`);
}
