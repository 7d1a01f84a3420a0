// A small latency histogram for one interval of a time series: log buckets 2 % wide (a value reads
// back within 1 %) from 1 µs to 100 s, recorded in O(1), read (both percentiles in one pass) and
// cleared over the buckets the interval touched only. The full-precision HdrHistogram has 14–21k
// buckets: walking it on every tick stalled the data path that shares the thread.

const FLOOR_NS = 1_000;
const RATIO = 1.02;
const LOG_RATIO = Math.log(RATIO);
const BUCKETS = Math.ceil(Math.log(1e11 / FLOOR_NS) / LOG_RATIO) + 1;

export class IntervalHistogram {
  private readonly counts = new Uint32Array(BUCKETS);
  private lowest = BUCKETS;
  private highest = -1;
  totalCount = 0;

  record(ns: number): void {
    const index =
      ns <= FLOOR_NS ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log(ns / FLOOR_NS) / LOG_RATIO) + 1);
    this.counts[index]!++;
    this.totalCount++;
    if (index < this.lowest) this.lowest = index;
    if (index > this.highest) this.highest = index;
  }

  /** The values at these percentiles (ascending), ns, each within 1 % (a bucket's geometric middle). */
  percentiles(ranks: readonly number[]): number[] {
    const values: number[] = [];
    if (this.totalCount === 0) return values;
    let seen = 0;
    let next = 0;
    for (let index = this.lowest; index <= this.highest && next < ranks.length; index++) {
      seen += this.counts[index]!;
      while (next < ranks.length && seen >= Math.max(1, Math.ceil((ranks[next]! / 100) * this.totalCount))) {
        values.push(index === 0 ? FLOOR_NS : FLOOR_NS * RATIO ** (index - 0.5));
        next++;
      }
    }
    return values;
  }

  reset(): void {
    if (this.highest >= this.lowest) this.counts.fill(0, this.lowest, this.highest + 1);
    this.lowest = BUCKETS;
    this.highest = -1;
    this.totalCount = 0;
  }
}
