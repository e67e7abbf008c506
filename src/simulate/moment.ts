import type { Zone } from "luxon";
import type { Moment } from "../decide/index.js";

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

const mod = (n: number, m: number) => ((n % m) + m) % m;

/**
 * A replayed minute's moment, for the decision step: its instant and its wall-clock fields in
 * the config's zone, computed as luxon computes a DateTime's (the instant plus the zone's
 * offset, read as UTC) without building one. A DateTime a minute, its locale and its calendar
 * object, was a tenth of a replay; test/simulate/moment.test.ts checks every field against
 * luxon's, minute by minute across DST changes.
 */
export class SimulatedMoment implements Moment {
  readonly offset: number;
  readonly #ms: number;
  /** The wall-clock time, as epoch ms of the same fields in UTC. */
  readonly #wall: number;

  constructor(
    ms: number,
    readonly zone: Zone,
  ) {
    this.#ms = ms;
    this.offset = zone.offset(ms);
    this.#wall = ms + this.offset * MINUTE_MS;
  }

  toMillis(): number {
    return this.#ms;
  }

  get minute(): number {
    return mod(Math.floor(this.#wall / MINUTE_MS), 60);
  }

  get hour(): number {
    return mod(Math.floor(this.#wall / HOUR_MS), 24);
  }

  /** 1 (Monday) to 7: 1 January 1970 was a Thursday. */
  get weekday(): number {
    return mod(Math.floor(this.#wall / DAY_MS) + 3, 7) + 1;
  }
}
