/**
 * A platform's API refused or did not answer. `id` and `message` are the platform's own
 * (Heroku's `{id, message}` body) or ours for transport failures (`timeout`, `network_error`).
 */
export class ScaleError extends Error {
  constructor(
    readonly id: string,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "ScaleError";
  }
}

/** Reads and sets the number of processes of one process type on one platform. */
export interface Scaler {
  /** Human-readable target, e.g. `heroku dancing-forest-1234/web`; never contains a secret. */
  readonly target: string;
  /** The quantity the platform runs now (a manual scale on the platform is respected). */
  current(signal: AbortSignal): Promise<number>;
  /** Sets the quantity; resolves to the quantity the platform reports afterwards. Throws ScaleError. */
  scaleTo(quantity: number, signal: AbortSignal): Promise<number>;
}
