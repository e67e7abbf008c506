import { plural } from "../kit/plural.js";
import { ScaleError, type BatchAnswer, type Scaler, type ScalerBatch } from "./types.js";

/** One process's scale, as the tick asks it of the session. */
export interface ScaleRequest {
  scaler: Scaler;
  /** The count read this tick. */
  from: number;
  to: number;
}

/**
 * What came of one scale: the count the platform reports afterwards (`limit`: the platform's
 * limit that held it below the one asked; it may then be `from`, nothing scaled), or the error.
 */
export type ScaleAnswer = { to: number; limit?: number } | { error: ScaleError; limit?: number };

/** Without a Retry-After or the platform's own rule, an account waits this long after a 429. */
const DEFAULT_BACKOFF_MS = 60_000;

/**
 * One tick's platform calls. Scalers of one batch (ScalerBatch: one Heroku account and app)
 * share one read, made when the first of them asks and answered to all, and one write for all
 * of the scales the tick asks of them at once; other scalers call alone. Nothing here waits on
 * time: the tick's two steps (every process reads and decides, then every scale is made) are
 * the batches. It also keeps, per account, the requests left as each batch's read said, and the
 * back-off after a 429, so that no call is made while it lasts.
 */
export class ScalingSession {
  readonly #now: number;
  readonly #reads = new Map<string, Promise<BatchAnswer>>();
  readonly #remaining = new Map<string, number>();
  readonly #backoffs = new Map<string, number>();

  /** `now`: the tick's time, from which back-offs are counted. */
  constructor(now: number) {
    this.#now = now;
  }

  /** A back-off the state recorded for the scaler's account; one that has run out is none. */
  backOff(scaler: Scaler, until: number | undefined): void {
    const account = scaler.batch?.account;
    if (account === undefined || until === undefined || until <= this.#now) return;
    this.#backoffs.set(account, Math.max(until, this.#backoffs.get(account) ?? 0));
  }

  /** Until when the scaler's account makes no call (a 429 this tick or before); undefined: none. */
  backoffUntil(scaler: Scaler): number | undefined {
    const account = scaler.batch?.account;
    return account === undefined ? undefined : this.#backoffs.get(account);
  }

  /** The count the platform runs for the scaler: its batch's one read, or its own. Throws ScaleError. */
  async current(scaler: Scaler, signal: AbortSignal): Promise<number> {
    const { batch } = scaler;
    if (!batch) return scaler.current(signal);
    let read = this.#reads.get(batch.key);
    if (!read) {
      read = this.#call(batch, () => batch.readAll(signal));
      this.#reads.set(batch.key, read);
    }
    const count = (await read).counts.get(batch.member);
    if (count === undefined)
      throw new ScaleError(
        "not-found",
        "not_found",
        `${batch.platform} lists no process type ${JSON.stringify(batch.member)} in ${scaler.target.replace(/\/[^/]*$/, "")}'s formation`,
        404,
      );
    return count;
  }

  /**
   * Why a scale from `from` to `to` waits for a later tick, or null: a scale-down while the
   * account's requests left (as its batch's read said) are below the scaler's reserve. A
   * scale-up always goes: load does not wait for the pool to refill.
   */
  deferral(scaler: Scaler, from: number, to: number): string | null {
    const { batch } = scaler;
    if (!batch || to >= from) return null;
    const remaining = this.#remaining.get(batch.key);
    if (remaining === undefined || remaining >= batch.rateLimitReserve) return null;
    return `scale-down-deferred: ${batch.platform} rate-limit reserve, ${plural(remaining, "request")} left (below ${batch.rateLimitReserve}); scale-ups still go`;
  }

  /**
   * Makes every scale: a batch's in one call (its first member's client makes it), the others
   * alone, all at once. One answer per request, in order, each settled as soon as its call is.
   */
  scaleAll(requests: readonly ScaleRequest[], signal: AbortSignal): Promise<ScaleAnswer>[] {
    const answers = requests.map((request) =>
      request.scaler.batch
        ? undefined
        : request.scaler.scaleTo(request.to, signal).then(
            (to): ScaleAnswer => ({ to }),
            (error: unknown): ScaleAnswer => ({ error: asScaleError(error) }),
          ),
    );
    const batches = new Map<string, number[]>();
    requests.forEach(({ scaler }, i) => {
      if (!scaler.batch) return;
      const members = batches.get(scaler.batch.key);
      if (members) members.push(i);
      else batches.set(scaler.batch.key, [i]);
    });
    for (const members of batches.values()) {
      const written = this.#scaleBatch(
        members.map((m) => requests[m]!),
        signal,
      );
      for (const [n, m] of members.entries()) answers[m] = written.then((all) => all[n]!);
    }
    return answers as Promise<ScaleAnswer>[];
  }

  /**
   * One batch's write. A refusal naming a limit (Heroku's 422 over a dyno limit) caps the members
   * asked above it at the limit and tries once more, without the members the cap leaves where
   * they are: the others need not wait a tick for the ones over the limit.
   */
  async #scaleBatch(requests: ScaleRequest[], signal: AbortSignal): Promise<ScaleAnswer[]> {
    const batch = requests[0]!.scaler.batch!;
    const write = async (asked: ScaleRequest[]) => {
      const quantities = new Map(asked.map((r) => [r.scaler.batch!.member, r.to]));
      const answer = await this.#call(batch, () => batch.scaleAll(quantities, signal));
      return asked.map((r) => answer.counts.get(r.scaler.batch!.member) ?? r.to);
    };
    try {
      return (await write(requests)).map((to) => ({ to }));
    } catch (caught) {
      const error = asScaleError(caught);
      const { limit } = error.details;
      if (limit === undefined || !requests.some((r) => r.to > limit)) return requests.map(() => ({ error }));
      const capped = requests.map((r) => (r.to > limit ? { ...r, to: Math.min(r.to, limit) } : r));
      const moving = capped.filter((r) => r.to !== r.from);
      let counts: number[] = [];
      try {
        if (moving.length > 0) counts = await write(moving);
      } catch (again) {
        const retryError = asScaleError(again);
        return capped.map((r, n) => ({
          ...(r.to === r.from ? { to: r.from } : { error: retryError }),
          ...(requests[n]!.to > limit ? { limit } : {}),
        }));
      }
      return capped.map((r, n) => ({
        to: r.to === r.from ? r.from : counts[moving.indexOf(r)]!,
        ...(requests[n]!.to > limit ? { limit } : {}),
      }));
    }
  }

  /** A call on the batch's account: refused while it backs off; its answer's requests left kept, a 429's back-off started. */
  async #call(batch: ScalerBatch, call: () => Promise<BatchAnswer>): Promise<BatchAnswer> {
    const until = this.#backoffs.get(batch.account);
    if (until !== undefined)
      throw new ScaleError(
        "rate-limited",
        "rate_limit_backoff",
        `${batch.platform} API rate limit: no request until ${new Date(until).toISOString()} (backing off after a 429, while the account's pool refills)`,
        429,
      );
    try {
      const answer = await call();
      if (answer.remaining !== undefined) this.#remaining.set(batch.key, answer.remaining);
      return answer;
    } catch (caught) {
      const error = asScaleError(caught);
      if (error.kind === "rate-limited") {
        const until = this.#now + (error.details.retryAfterMs ?? DEFAULT_BACKOFF_MS);
        this.#backoffs.set(batch.account, Math.max(until, this.#backoffs.get(batch.account) ?? 0));
      }
      throw error;
    }
  }
}

function asScaleError(error: unknown): ScaleError {
  return error instanceof ScaleError ? error : new ScaleError("internal", "internal_error", String(error));
}
