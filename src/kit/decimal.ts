/**
 * A number for a reason: rounded to at most two decimals, no trailing zeros. The same string
 * as `String(Math.round(n * 100) / 100)`, made from integers: a decision writes its reason every
 * tick and every simulated minute, and V8 turns a fractional number into its shortest decimal
 * string about ten times slower than it prints a small integer.
 */
export function twoDecimals(n: number): string {
  const hundredths = Math.round(n * 100);
  // Beyond this, and for NaN and ±Infinity, the general conversion (exponents, the names).
  if (!(Math.abs(hundredths) < 2 ** 31)) return String(hundredths / 100);
  // A rounded hundredth of up to 10 digits is the shortest decimal of the double nearest it.
  const magnitude = Math.abs(hundredths);
  const whole = Math.floor(magnitude / 100);
  const cents = magnitude - whole * 100;
  const sign = hundredths < 0 ? "-" : "";
  if (cents === 0) return `${sign}${whole}`;
  if (cents % 10 === 0) return `${sign}${whole}.${cents / 10}`;
  return `${sign}${whole}.${cents < 10 ? "0" : ""}${cents}`;
}
