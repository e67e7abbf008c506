import { IANAZone } from "luxon";

/** An hour: a bucket is cached only when the offsets at its two ends agree. */
const BUCKET_MS = 60 * 60_000;

/**
 * The config's IANA zone, with its UTC offset remembered per hour: luxon asks Intl for the
 * offset of every DateTime it builds, which was most of a replay's time. It is the same zone to
 * luxon (type "iana", the same name, so `equals` holds) with the same offsets: an hour is cached
 * only when the offsets at its start and end agree (zones change offset at most once in an
 * hour), and within an hour that holds a transition every offset is computed exactly.
 */
export class CachedZone extends IANAZone {
  #bucket = NaN;
  #offset = 0;

  override offset(ts: number): number {
    const bucket = Math.floor(ts / BUCKET_MS);
    if (bucket === this.#bucket) return this.#offset;
    const start = super.offset(bucket * BUCKET_MS);
    if (start !== super.offset((bucket + 1) * BUCKET_MS - 1)) return super.offset(ts);
    this.#bucket = bucket;
    this.#offset = start;
    return start;
  }
}
