export type Unit = "ms" | "jobs" | "count";

/** One measurement. A failed measurement is a Reading with ok=false, never an exception. */
export interface Reading {
  backend: string;
  value: number | null;
  unit: Unit;
  ok: boolean;
  error?: string;
  /** A process count the app itself asks for (app-json backend). */
  desired?: number;
}

export interface Measurement {
  measure(signal: AbortSignal): Promise<Reading>;
}
