/** The middle value (the upper middle for an even count): robust to the odd slow round. */
export const median = (values: readonly number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
