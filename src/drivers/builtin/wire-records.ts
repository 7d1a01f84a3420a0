// The records the native data path (native/wire.c) writes: 40 bytes each, little-endian. Decoding
// is pure; a chunk may end inside a record, whose start is kept for the next chunk.

export const RECORD_BYTES = 40;

export const RecordKind = {
  start: 1,
  transaction: 2,
  answer: 3,
  sent: 4,
  summary: 5,
  end: 6,
  listening: 7,
} as const;

/** The fields of one record; what each means depends on its kind (see native/wire.c). */
export interface WireRecord {
  kind: number;
  seq: number;
  lateness: number;
  intendedUs: number;
  a: number;
  b: number;
}

/** A signed 64-bit integer as a double without a BigInt per read: exact below 2^53 (104 days of ns). */
function readInt64(data: Buffer, offset: number): number {
  return data.readInt32LE(offset + 4) * 2 ** 32 + data.readUInt32LE(offset);
}

function decode(data: Buffer, offset: number, record: WireRecord): void {
  record.kind = data.readUInt32LE(offset);
  record.seq = data.readUInt32LE(offset + 4);
  record.lateness = data.readUInt32LE(offset + 8);
  record.intendedUs = data.readDoubleLE(offset + 16);
  record.a = readInt64(data, offset + 24);
  record.b = readInt64(data, offset + 32);
}

export class RecordReader {
  private rest: Buffer | null = null;
  private readonly record: WireRecord = { kind: 0, seq: 0, lateness: 0, intendedUs: 0, a: 0, b: 0 };

  /** Calls `onRecord` for every whole record the chunk completes; the record object is reused. */
  push(chunk: Buffer, onRecord: (record: WireRecord) => void): void {
    const record = this.record;
    let offset = 0;
    if (this.rest) {
      // Only the record cut at the last chunk's end is joined, not the chunks.
      const missing = RECORD_BYTES - this.rest.length;
      if (chunk.length < missing) {
        this.rest = Buffer.concat([this.rest, chunk]);
        return;
      }
      decode(Buffer.concat([this.rest, chunk.subarray(0, missing)]), 0, record);
      this.rest = null;
      offset = missing;
      onRecord(record);
    }
    const whole = chunk.length - ((chunk.length - offset) % RECORD_BYTES);
    for (; offset < whole; offset += RECORD_BYTES) {
      decode(chunk, offset, record);
      onRecord(record);
    }
    if (whole < chunk.length) this.rest = Buffer.from(chunk.subarray(whole));
  }

  /** Bytes of a record begun but not finished. */
  get pending(): number {
    return this.rest?.length ?? 0;
  }
}
