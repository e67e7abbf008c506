export type Unit = "ms" | "jobs" | "count";

/** One measurement. A failed measurement is a Reading with ok=false, never an exception. */
export interface Reading {
  backend: string;
  value: number | null;
  unit: Unit;
  ok: boolean;
  error?: string;
  /**
   * What a failed reading says about load. A heartbeat that times out or answers 5xx is the
   * strongest sign of overload ("overload", the default); an unreachable queue broker says
   * nothing about the queue ("unknown"), so decisions hold, as KEDA's fallback does.
   */
  failureMeans?: "overload" | "unknown";
  /** A process count the app itself asks for (app-json backend). */
  desired?: number;
}

export interface Measurement {
  measure(signal: AbortSignal): Promise<Reading>;
}
