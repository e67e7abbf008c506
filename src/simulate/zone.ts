import { IANAZone } from "luxon";

/** An hour: a bucket is cached only when the offsets at its two ends agree. */
const BUCKET_MS = 60 * 60_000;
/** A day: most days have one offset all day, and are cached whole. */
const DAY_MS = 24 * BUCKET_MS;
/** Hours whose offsets CachedZone keeps at once: more than the widest UTC offset, as luxon also asks at the wall time read as UTC. */
const CACHED_HOURS = 32;
/** Days kept at once: today, and the days luxon's wall-time guesses and a look an hour ahead reach. */
const CACHED_DAYS = 4;

/** Offsets remembered by time bucket (hours or days), a few buckets at once by the bucket's number. */
class OffsetCache {
  readonly #buckets: Float64Array;
  readonly #offsets: Float64Array;
  constructor(
    readonly bucketMs: number,
    size: number,
  ) {
    this.#buckets = new Float64Array(size).fill(NaN);
    this.#offsets = new Float64Array(size);
  }

  /** The offset at `ts`: remembered, or from `offsetAt` when the bucket's two ends agree (NaN: they do not). */
  offset(ts: number, offsetAt: (ts: number) => number): number {
    const size = this.#buckets.length;
    const bucket = Math.floor(ts / this.bucketMs);
    const slot = ((bucket % size) + size) % size;
    if (this.#buckets[slot] === bucket) return this.#offsets[slot]!;
    const start = offsetAt(bucket * this.bucketMs);
    if (start !== offsetAt((bucket + 1) * this.bucketMs - 1)) return NaN;
    this.#buckets[slot] = bucket;
    this.#offsets[slot] = start;
    return start;
  }
}

/**
 * The config's IANA zone, with its UTC offset remembered per day, or per hour on a day that
 * changes offset: luxon asks Intl for the offset of every DateTime it builds, which was most of
 * a replay's time. It is the same zone to luxon (type "iana", the same name, so `equals` holds)
 * with the same offsets: a day or an hour is cached only when the offsets at its start and end
 * agree (zones change offset at most once in a day), and within an hour that holds a transition
 * every offset is computed exactly.
 */
export class CachedZone extends IANAZone {
  readonly #days = new OffsetCache(DAY_MS, CACHED_DAYS);
  // A step that looks at the next hour (pre-warming's) and back at this one must not evict it each time.
  readonly #hours = new OffsetCache(BUCKET_MS, CACHED_HOURS);
  readonly #exact = (ts: number) => super.offset(ts);

  override offset(ts: number): number {
    const daily = this.#days.offset(ts, this.#exact);
    if (daily === daily) return daily; // not NaN
    const hourly = this.#hours.offset(ts, this.#exact);
    return hourly === hourly ? hourly : super.offset(ts);
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
