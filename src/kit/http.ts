/** One deadline for a network call: the caller's signal (the tick's deadline) or our own timeout, whichever is first. */
export function withTimeout(signal: AbortSignal, timeoutMs: number): AbortSignal {
  return AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
}

/** True when an error is the abort of a timed-out or cancelled request. */
export function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
}

/** A short description of a fetch failure that never includes request headers (and so no secret). */
export function describeFetchError(error: unknown): string {
  if (isAbort(error)) return "timed out";
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: unknown }).cause;
    const code =
      cause instanceof Error && "code" in cause ? String((cause as { code: unknown }).code) : undefined;
    return code ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}
