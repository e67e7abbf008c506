/**
 * One deadline for a network call: the caller's signal (the tick's deadline) or our own timeout,
 * whichever is first. Our own controller and timer, not `AbortSignal.any` with
 * `AbortSignal.timeout`: the garbage collector may take the inner timeout signal and the
 * deadline with it (nodejs/node#57736). The pending timer keeps this controller alive; it is
 * unref'd so it never holds the process open.
 */
export function withTimeout(signal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, "TimeoutError")),
    timeoutMs,
  );
  timer.unref();
  if (!signal) return controller.signal;
  const follow = () => {
    clearTimeout(timer);
    controller.abort(signal.reason);
  };
  if (signal.aborted) follow();
  else {
    signal.addEventListener("abort", follow, { once: true });
    controller.signal.addEventListener("abort", () => signal.removeEventListener("abort", follow), {
      once: true,
    });
  }
  return controller.signal;
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
