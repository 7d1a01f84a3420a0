import assert from "node:assert/strict";
import { test } from "node:test";
import {
  RECORD_BYTES,
  RecordKind,
  RecordReader,
  type WireRecord,
} from "../../../../src/drivers/builtin/wire-records.js";

/** A record as native/wire.c lays it out. */
function encode(record: WireRecord): Buffer {
  const buffer = Buffer.alloc(RECORD_BYTES);
  buffer.writeUInt32LE(record.kind, 0);
  buffer.writeUInt32LE(record.seq, 4);
  buffer.writeUInt32LE(record.lateness, 8);
  buffer.writeDoubleLE(record.intendedUs, 16);
  buffer.writeBigInt64LE(BigInt(record.a), 24);
  buffer.writeBigInt64LE(BigInt(record.b), 32);
  return buffer;
}

test("records split anywhere across chunks read back whole, signed 64-bit times and -1 included", () => {
  const records: WireRecord[] = [
    { kind: RecordKind.start, seq: 50_000, lateness: 0, intendedUs: 0, a: 123_456_789_012_345, b: 5000 },
    {
      kind: RecordKind.answer,
      seq: 4_294_967_295,
      lateness: 4_000_000_000,
      intendedUs: 1234.5,
      a: 2 ** 52 + 1,
      b: -1,
    },
    { kind: RecordKind.transaction, seq: 7, lateness: 0, intendedUs: 0, a: 2 ** 32 + 7, b: 2 ** 32 - 1 },
    { kind: RecordKind.end, seq: 0, lateness: 0, intendedUs: 0, a: 0, b: 0 },
  ];
  const stream = Buffer.concat(records.map(encode));
  for (const cut of [1, 7, 39, 40, 41, 63, 100]) {
    const reader = new RecordReader();
    const read: WireRecord[] = [];
    for (let offset = 0; offset < stream.length; offset += cut)
      reader.push(stream.subarray(offset, offset + cut), (record) => read.push({ ...record }));
    assert.deepEqual(read, records, `chunks of ${cut} bytes`);
    assert.equal(reader.pending, 0);
  }
});

test("a record cut short stays pending instead of being read as garbage", () => {
  const reader = new RecordReader();
  let count = 0;
  reader.push(Buffer.alloc(RECORD_BYTES + 12), () => count++);
  assert.equal(count, 1);
  assert.equal(reader.pending, 12);
});
