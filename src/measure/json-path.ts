import { z } from "zod";

/** A dotted path into a JSON document: `timing.serviceMs`, `queues.0.depth`. */
export const jsonPath = z
  .string()
  .regex(/^[^.]+(\.[^.]+)*$/, { error: "expected a dotted path such as timing.serviceMs" });

/** Parses JSON text; undefined when it is not JSON (the caller says what it expected). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The value at a dotted path, or undefined when any step is missing. Own properties only, so a
 * path such as `constructor` cannot reach into prototypes.
 */
export function readJsonPath(document: unknown, path: string): unknown {
  let current: unknown = document;
  for (const step of path.split(".")) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, step)) return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

type NumberAt = { ok: true; value: number } | { ok: false; error: string };

/** The number >= 0 at a path in a parsed JSON document, or why there is none (naming the path). */
export function numberAtPath(document: unknown, path: string): NumberAt {
  const value = readJsonPath(document, path);
  if (value === undefined) return { ok: false, error: `the JSON body has no field "${path}"` };
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0)
    return { ok: false, error: `the JSON field "${path}" is not a number >= 0` };
  return { ok: true, value };
}

/** The same, from JSON text. */
export function numberInJson(body: string, path: string): NumberAt {
  const document = parseJson(body);
  return document === undefined ? { ok: false, error: "the body is not JSON" } : numberAtPath(document, path);
}
