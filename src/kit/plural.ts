/**
 * The noun for a count: `one` for 1 (or -1: "a net change of -1 process"), else `many`.
 * Human messages say "1 fail in a row" and "1 process", never "1 fails" or "1 processes".
 */
export const noun = (n: number, one: string, many = `${one}s`): string => (Math.abs(n) === 1 ? one : many);

/** The count and its noun: `plural(1, "process", "processes")` is "1 process"; `shown` formats the number. */
export const plural = (n: number, one: string, many = `${one}s`, shown = String(n)): string =>
  `${shown} ${noun(n, one, many)}`;
