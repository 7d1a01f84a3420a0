import assert from "node:assert/strict";
import { test } from "node:test";
import { startDatagramSource } from "../../../../src/drivers/builtin/datagram-source.js";
import { readSeq } from "../../../../src/drivers/builtin/protocol.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("a buffer is never handed out again while the kernel may still be sending it", async () => {
  const inFlight = new Set<Buffer>();
  const seqs: number[] = [];
  let reused = 0;
  const source = startDatagramSource(64, 0, (buffer, done) => {
    if (inFlight.has(buffer)) reused++;
    inFlight.add(buffer);
    seqs.push(readSeq(buffer));
    // The send completes later, as a queued datagram would.
    setTimeout(() => {
      inFlight.delete(buffer);
      done();
    }, 1);
  });
  await sleep(100);
  source.stop();
  assert.equal(reused, 0);
  assert.ok(seqs.length > 256, `${seqs.length} datagrams, more than the ring holds`);
  assert.deepEqual(
    seqs,
    seqs.map((_, i) => i),
    "sequence numbers dense from 0",
  );
  assert.equal(source.sent, seqs.length);
});

test("at a rate, never ahead of the schedule", async () => {
  const started = performance.now();
  const source = startDatagramSource(64, 1000, (_buffer, done) => done());
  await sleep(200);
  source.stop();
  const elapsedMs = performance.now() - started;
  assert.ok(
    source.sent <= Math.floor(elapsedMs) + 1,
    `${source.sent} sent in ${elapsedMs.toFixed(0)} ms at 1000/s`,
  );
  assert.ok(source.sent > 0);
});
