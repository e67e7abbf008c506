import { steerProcess } from "../engine/steer.js";
import { failure, json } from "./http.js";
import type { ApiContext } from "./status.js";

/**
 * Pause or resume (src/engine/steer.ts), once the caller has checked the method and the token:
 * the answer says what it did and the pause now in force.
 */
export async function steerResponse(
  action: "pause" | "resume",
  request: Request,
  context: () => ApiContext,
): Promise<Response> {
  let body: unknown;
  try {
    body = JSON.parse(await request.text());
  } catch {
    return json(400, { error: 'expected a JSON body, e.g. {"process": "web"}' });
  }
  try {
    const { config, store, now } = context();
    return json(200, await steerProcess(action, config, { store, clock: { now } }, body, "api"));
  } catch (error) {
    return failure(error);
  }
}
