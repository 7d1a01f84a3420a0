// Sequence accounting for open-loop and datagram traffic: which numbered messages arrived,
// which twice, which after a later one.

/** Counts unique arrivals, duplicates and reordering from sequence numbers (0-based, dense). */
export class SequenceTracker {
  private seen = new Uint8Array(1024);
  private highest = -1;
  received = 0;
  duplicates = 0;
  /** Messages that arrived after one with a higher sequence number. */
  reordered = 0;

  /** Records one arrival; returns false for a duplicate (which must not count as delivered). */
  record(seq: number): boolean {
    if (!Number.isInteger(seq) || seq < 0)
      throw new RangeError(`sequence number ${seq} is not a non-negative integer`);
    this.ensureCapacity(seq);
    const byte = seq >>> 3;
    const bit = 1 << (seq & 7);
    if ((this.seen[byte]! & bit) !== 0) {
      this.duplicates++;
      return false;
    }
    this.seen[byte]! |= bit;
    this.received++;
    if (seq < this.highest) this.reordered++;
    else this.highest = seq;
    return true;
  }

  /** Messages missing out of `sent` (never negative). */
  lost(sent: number): number {
    return Math.max(0, sent - this.received);
  }

  private ensureCapacity(seq: number): void {
    const needed = (seq >>> 3) + 1;
    if (needed <= this.seen.length) return;
    let size = this.seen.length;
    while (size < needed) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.seen);
    this.seen = grown;
  }
}
