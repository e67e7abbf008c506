import { IANAZone } from "luxon";

/** An hour: a bucket is cached only when the offsets at its two ends agree. */
const BUCKET_MS = 60 * 60_000;
/** Hours whose offsets CachedZone keeps at once: more than the widest UTC offset, as luxon also asks at the wall time read as UTC. */
const CACHED_HOURS = 32;

/**
 * The config's IANA zone, with its UTC offset remembered per hour: luxon asks Intl for the
 * offset of every DateTime it builds, which was most of a replay's time. It is the same zone to
 * luxon (type "iana", the same name, so `equals` holds) with the same offsets: an hour is cached
 * only when the offsets at its start and end agree (zones change offset at most once in an
 * hour), and within an hour that holds a transition every offset is computed exactly.
 */
export class CachedZone extends IANAZone {
  // A few hours at once, by the hour's number mod CACHED_HOURS: a step that looks at the next
  // hour (pre-warming's) and back at this one must not evict it each time.
  readonly #buckets = new Float64Array(CACHED_HOURS).fill(NaN);
  readonly #offsets = new Float64Array(CACHED_HOURS);

  override offset(ts: number): number {
    const bucket = Math.floor(ts / BUCKET_MS);
    const slot = ((bucket % CACHED_HOURS) + CACHED_HOURS) % CACHED_HOURS;
    if (this.#buckets[slot] === bucket) return this.#offsets[slot]!;
    const start = super.offset(bucket * BUCKET_MS);
    if (start !== super.offset((bucket + 1) * BUCKET_MS - 1)) return super.offset(ts);
    this.#buckets[slot] = bucket;
    this.#offsets[slot] = start;
    return start;
  }
}

/** The instants a wall-clock time stands for: one (`earlier === later`), or two in an hour the clock repeats. */
export interface Instants {
  earlier: number;
  later: number;
}

/** The offsets (ms) around one wall-clock hour, and the instant the offset changes (NaN: it does not). */
interface WallHour {
  before: number;
  after: number;
  change: number;
}

/** Offsets run from -12 h to +14 h: the instants of a wall-clock hour lie within 15 h of it. */
const REACH_MS = 15 * BUCKET_MS;

/**
 * Wall-clock times in an IANA zone to instants, without a luxon DateTime per time (a week of
 * per-second rows is 600,000 of them). The zone's offsets are looked up once per wall-clock
 * hour: an hour with the same offset 15 h before and 16 h after it (zones change offset months
 * apart) takes that offset; around a change the instant of the change is found once (by
 * bisection on luxon's offsets) and each time resolved exactly. A time the clock skips (spring
 * forward) moves forward by the change, as luxon does; a time it repeats (fall back) has two
 * instants, and the caller chooses.
 */
export class WallClock {
  readonly zone: IANAZone;
  readonly #hours = new Map<number, WallHour>();
  #lastKey = NaN;
  #last: WallHour = { before: 0, after: 0, change: NaN };

  constructor(name: string) {
    this.zone = IANAZone.create(name);
  }

  get isValid(): boolean {
    return this.zone.isValid;
  }

  /** The instants of a wall-clock time given as epoch ms of the same fields in UTC. */
  instants(wallMs: number): Instants {
    const hour = this.#hour(wallMs);
    const first = wallMs - hour.before;
    if (Number.isNaN(hour.change)) return { earlier: first, later: first };
    const second = wallMs - hour.after;
    const firstHolds = first < hour.change;
    const secondHolds = second >= hour.change;
    if (firstHolds && secondHolds)
      return { earlier: Math.min(first, second), later: Math.max(first, second) };
    const only = secondHolds && !firstHolds ? second : first; // neither: skipped, moved forward
    return { earlier: only, later: only };
  }

  #hour(wallMs: number): WallHour {
    const key = Math.floor(wallMs / BUCKET_MS);
    if (key === this.#lastKey) return this.#last;
    let hour = this.#hours.get(key);
    if (!hour) {
      const from = key * BUCKET_MS - REACH_MS;
      const to = (key + 1) * BUCKET_MS + REACH_MS;
      const before = this.zone.offset(from) * 60_000;
      const after = this.zone.offset(to) * 60_000;
      let change = NaN;
      if (before !== after) {
        let lo = from;
        let hi = to;
        while (hi - lo > 1) {
          const mid = Math.floor((lo + hi) / 2);
          if (this.zone.offset(mid) * 60_000 === before) lo = mid;
          else hi = mid;
        }
        change = hi;
      }
      hour = { before, after, change };
      this.#hours.set(key, hour);
    }
    this.#lastKey = key;
    this.#last = hour;
    return hour;
  }
}
