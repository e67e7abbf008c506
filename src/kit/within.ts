/**
 * Waits for `work` at most `ms` (our own timer, cleared when it settles): its value, or
 * `late` when it did not settle in time. The work itself goes on; the caller stops waiting.
 * A rejection within the time is passed on.
 */
export async function within<T>(work: Promise<T>, ms: number): Promise<{ value: T } | "late"> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<"late">((resolve) => {
    timer = setTimeout(() => resolve("late"), Math.max(0, ms));
  });
  try {
    return await Promise.race([work.then((value) => ({ value })), late]);
  } finally {
    clearTimeout(timer);
  }
}
