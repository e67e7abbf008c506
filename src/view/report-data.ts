/** What the simulator's report page (src/simulate/html.ts) carries and ./sim-report.ts draws. */
export interface ReportData {
  zone: string;
  sloMs: number;
  metric: "p95" | "mean";
  rateMultiplier: number;
  bucketMinutes: number;
  /** Unix seconds of each bucket's first minute, in the trace's own time. */
  times: number[];
  arrivals: number[];
  runs: Array<{ label: string; kind: "policy" | "baseline"; processes: number[]; latencyMs: number[] }>;
  /** The slowest minutes of each policy: its run's index, the bucket drawn and the minute's time. */
  worst: Array<{ run: number; bucket: number; time: string; latencyMs: number; processes: number }>;
}
