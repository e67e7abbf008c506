import { buildView } from "../src/tools/view.js";

/** The dashboard and the simulator's report draw with the bundled browser code: built once per run. */
export default async function setup(): Promise<void> {
  await buildView();
}
