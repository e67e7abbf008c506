import { z } from "zod";

/** What every backend descriptor carries: its settings' schema, whose `backend` literal is its name. */
export interface BackendDescriptor {
  readonly schema: z.ZodObject<{ backend: z.ZodLiteral<string> }>;
}

/** Any backend's schema: what a stage's descriptor type is widened to for a lookup by name. */
export type AnySchema = BackendDescriptor["schema"];

type Schemas<Backends extends readonly BackendDescriptor[]> = {
  [K in keyof Backends]: Backends[K]["schema"];
};

/**
 * A stage's list of backends, and what derives from it: the discriminated union of their
 * settings (so the config type is the union of theirs) and the lookup by name. Adding a backend
 * is adding its descriptor to the list; nothing else names it.
 */
export function backendRegistry<const Backends extends readonly [BackendDescriptor, ...BackendDescriptor[]]>(
  backends: Backends,
) {
  const byName = new Map<string, Backends[number]>();
  for (const backend of backends) {
    const name = backend.schema.shape.backend.value;
    if (byName.has(name)) throw new Error(`two backends are named ${JSON.stringify(name)}`);
    byName.set(name, backend);
  }
  const schemas = backends.map((backend) => backend.schema) as unknown as Schemas<Backends>;
  return {
    backends,
    names: [...byName.keys()],
    schema: z.discriminatedUnion("backend", schemas),
    /** The descriptor of a parsed config's backend (the schema admits no other name). */
    of(config: { backend: string }): Backends[number] {
      const backend = byName.get(config.backend);
      if (!backend) throw new Error(`no backend named ${JSON.stringify(config.backend)}`);
      return backend;
    },
  };
}
