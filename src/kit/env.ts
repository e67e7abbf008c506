/** The process environment as the autoscaler reads it: secrets are referenced by variable name. */
export type Env = Readonly<Record<string, string | undefined>>;
