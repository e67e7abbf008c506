/** `npm run docs`: writes autoscale.schema.json and docs/configuration.md from the schema. */
import { writeFile } from "node:fs/promises";
import { generateReference } from "./config-reference.js";

// dist/tools/docs.js and src/tools/docs.ts both sit two levels below the repository root.
const root = new URL("../../", import.meta.url);

for (const [file, text] of Object.entries(await generateReference(root))) {
  await writeFile(new URL(file, root), text);
  console.log(`wrote ${file} (${Buffer.byteLength(text)} bytes)`);
}
