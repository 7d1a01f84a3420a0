// The built-in engine for real on loopback: every pattern × protocol, with sane numbers; and the
// engine reports the path, not itself: what the sender really sent, what the receiver really got,
// answers credited to the request they answer.

import assert from "node:assert/strict";
import dgram from "node:dgram";
import { after, before, test } from "node:test";
import type { Sample } from "../../src/domain/sample.js";
import type { Traffic } from "../../src/domain/traffic.js";
import type { AgentConnection } from "../../src/drivers/builtin/control-client.js";
import { builtinDriver } from "../../src/drivers/builtin/driver.js";
import { runUdpRr } from "../../src/drivers/builtin/rr.js";
import type { DriverSession } from "../../src/drivers/driver.js";
import { loopbackPath } from "../helpers/paths.js";
import { trafficOf } from "../helpers/traffic.js";

let session: DriverSession;
before(async () => {
  session = await builtinDriver.prepare(loopbackPath());
});
after(() => session.close());

const traffic = trafficOf;

async function one(partial: Partial<Traffic>): Promise<Sample> {
  const samples = await session.runTrial(traffic(partial));
  assert.equal(samples.length, 1);
  return samples[0]!;
}

function assertLatencySane(sample: Sample) {
  const latency = sample.latencyUs;
  assert.ok(latency, "latency recorded");
  assert.ok(latency.min > 0 && latency.min <= latency.p50, `min ${latency.min} ≤ p50 ${latency.p50}`);
  assert.ok(
    latency.p50 <= latency.p90 &&
      latency.p90 <= latency.p99 &&
      latency.p99 <= latency.p999 &&
      latency.p999 <= latency.max,
  );
  // A loose bound: CI machines are busy, and this checks sanity, not speed (bench/engine.ts does).
  assert.ok(latency.p50 < 100_000, `loopback p50 ${latency.p50} µs is under 100 ms`);
  assert.ok(sample.histogram, "raw histogram kept");
}

for (const protocol of ["tcp", "udp"] as const) {
  test(`${protocol} rr: closed loop, thousands of transactions, no loss`, async () => {
    const sample = await one({ protocol, pattern: "rr", requestSize: 100, responseSize: 300 });
    assert.ok(sample.messagesPerSecond > 1000, `${sample.messagesPerSecond} transactions/s`);
    assertLatencySane(sample);
    assert.equal(sample.loss.ratio, 0);
    assert.equal(sample.bytesSent, sample.messagesSent * 100);
    assert.equal(sample.bytesReceived, sample.messagesReceived * 300);
    assert.ok(Math.abs(sample.durationS - 1) < 0.1, `measured window ${sample.durationS} s`);
    const expectedMbps = (sample.messagesPerSecond * 400 * 8) / 1e6;
    assert.ok(
      Math.abs(sample.throughputMbps - expectedMbps) / expectedMbps < 0.01,
      "throughput counts both directions",
    );
  });

  test(`${protocol} paced at 1000 msg/s: what left the socket arrived, at the offered rate, tool delays measured`, async () => {
    const sample = await one({ protocol, pattern: "paced", rate: 1000, durationS: 2 });
    // Counted from the writes the socket took, so never more than the schedule and, here, all of it.
    assert.ok(sample.messagesSent <= 2000 && sample.messagesSent >= 1980, `${sample.messagesSent} sent`);
    assert.equal(sample.loss.received, sample.messagesReceived);
    assert.equal(sample.loss.ratio, 0);
    assert.equal(sample.loss.duplicates, 0);
    assert.ok(
      Math.abs(sample.messagesSent / sample.durationS - 1000) / 1000 < 0.02,
      "sent at the offered rate",
    );
    assertLatencySane(sample);
    assert.ok(
      sample.lateness && sample.receiveLag && sample.pathLatency,
      "tool delays and the path's share recorded",
    );
    assert.ok(
      sample.lateness.p50Us <= sample.lateness.p99Us && sample.lateness.p99Us <= sample.lateness.maxUs,
    );
    // The path's share leaves out the tool's delays: never above what is reported, never below a flight.
    assert.ok(sample.pathLatency.maxUs <= sample.latencyUs!.max * 1.002, "path ≤ reported");
    assert.ok(sample.pathLatency.p50Us > 0 && sample.pathLatency.p50Us <= sample.latencyUs!.p50 * 1.002);
  });

  test(`${protocol} stream: bulk client → server`, async () => {
    const size = protocol === "tcp" ? 16384 : 1400;
    const sample = await one({ protocol, pattern: "stream", requestSize: size, responseSize: size });
    assert.ok(sample.throughputMbps > 10, `${sample.throughputMbps} Mb/s`);
    assert.ok(sample.bytesReceived > 0);
    assert.equal(sample.latencyUs, null, "a stream has no per-message latency");
    if (protocol === "tcp") assert.equal(sample.loss.ratio, 0, "TCP loses no message");
  });

  test(`${protocol} maerts: bulk server → client`, async () => {
    const size = protocol === "tcp" ? 16384 : 1400;
    const sample = await one({ protocol, pattern: "maerts", requestSize: size, responseSize: size });
    assert.ok(sample.throughputMbps > 10, `${sample.throughputMbps} Mb/s`);
    assert.ok(sample.messagesReceived > 0);
  });
}

test("udp stream at an offered rate: delivered at that rate without loss on loopback", async () => {
  const sample = await one({
    protocol: "udp",
    pattern: "stream",
    requestSize: 512,
    responseSize: 512,
    rate: 2000,
  });
  assert.ok(Math.abs(sample.messagesPerSecond - 2000) / 2000 < 0.05, `${sample.messagesPerSecond} msg/s`);
  assert.equal(sample.loss.ratio, 0);
  assert.equal(sample.loss.reordered, 0);
});

test("udp maerts at an offered rate: the agent paces what it sends", async () => {
  const sample = await one({
    protocol: "udp",
    pattern: "maerts",
    requestSize: 256,
    responseSize: 256,
    rate: 3000,
  });
  assert.ok(
    Math.abs(sample.messagesSent / sample.durationS - 3000) / 3000 < 0.05,
    `${sample.messagesSent} sent`,
  );
  assert.ok(sample.loss.ratio < 0.01, `loss ${sample.loss.ratio}`);
});

test("tcp crr: a new connection per transaction", async () => {
  const sample = await one({ protocol: "tcp", pattern: "crr", requestSize: 64, responseSize: 1024 });
  assert.ok(sample.messagesPerSecond > 100, `${sample.messagesPerSecond} connections/s`);
  assertLatencySane(sample);
});

test("bidirectional: traffic both ways at once, one sample per direction", async () => {
  const samples = await session.runTrial(traffic({ pattern: "rr" }), { direction: "bidirectional" });
  assert.deepEqual(
    samples.map((sample) => sample.direction),
    ["forward", "reverse"],
  );
  for (const sample of samples) assert.ok(sample.messagesPerSecond > 1000);
});

test("an aborted trial stops at once", async () => {
  const controller = new AbortController();
  const started = Date.now();
  setTimeout(() => controller.abort(), 200);
  await assert.rejects(
    session.runTrial(traffic({ durationS: 30 }), { signal: controller.signal }),
    /aborted/,
  );
  assert.ok(Date.now() - started < 2000);
});

test("paced: a sender that cannot keep the schedule is seen — sent counts writes, not the schedule", async () => {
  const offered = 5_000_000; // far beyond what one thread writes here
  const [sample] = await session.runTrial(
    traffic({ protocol: "udp", pattern: "paced", rate: offered, durationS: 0.3, warmupS: 0 }),
  );
  assert.ok(sample);
  assert.ok(
    sample.messagesSent / sample.durationS < 0.99 * offered,
    `${sample.messagesSent} in ${sample.durationS} s`,
  );
  assert.ok(sample.messagesReceived <= sample.messagesSent);
  assert.equal(sample.generatorLimited, true);
  assert.ok(
    sample.warnings.some((warning) => /achieved \d+ of 5000000/.test(warning)),
    sample.warnings.join("; "),
  );
});

test("udp maerts counts only what the agent sent in the window: received never exceeds sent", async () => {
  const size = 1200;
  const [sample] = await session.runTrial(
    traffic({ protocol: "udp", pattern: "maerts", requestSize: size, responseSize: size, rate: 20_000 }),
  );
  assert.ok(sample && sample.messagesSent > 1000, `${sample?.messagesSent} sent`);
  assert.ok(
    sample.messagesReceived <= sample.messagesSent,
    `${sample.messagesReceived} of ${sample.messagesSent}`,
  );
  assert.ok(sample.bytesReceived <= sample.bytesSent, `${sample.bytesReceived} B of ${sample.bytesSent} B`);
  assert.equal(sample.bytesReceived, sample.messagesReceived * size);
  assert.equal(typeof sample.loss.socketDrops, "number", "receiver-socket drops reported apart");
});

test("udp rr below the sequence number's size is refused with the reason", () => {
  const reason = builtinDriver.unsupported?.(traffic({ protocol: "udp", requestSize: 2, responseSize: 2 }));
  assert.match(reason ?? "", /4-byte sequence number/);
});

test("udp rr: a late answer to a request given up on is not credited to the next one", async () => {
  // An echo server that answers request 20 only after 300 ms, long past the loss timeout.
  const server = dgram.createSocket("udp4");
  await new Promise<void>((resolve) => server.bind(0, "127.0.0.1", resolve));
  let requests = 0;
  server.on("message", (message, remote) => {
    const answer = Buffer.from(message);
    const delayMs = ++requests === 20 ? 300 : 0;
    setTimeout(() => server.send(answer, remote.port, remote.address), delayMs);
  });
  const agent = {
    open: async () => ({ session: 1, port: (server.address() as { port: number }).port }),
    closeSession: async () => {},
  } as unknown as AgentConnection;
  try {
    const sample = await runUdpRr({
      agent,
      host: "127.0.0.1",
      traffic: traffic({ protocol: "udp", requestSize: 8, responseSize: 8, warmupS: 0, durationS: 1 }),
    });
    assert.ok(sample.loss.sent - sample.loss.received >= 1, "the slow request counts as lost");
    assert.ok(sample.latencyUs && sample.latencyUs.max < 150_000, `max ${sample.latencyUs?.max} µs`);
  } finally {
    server.close();
  }
});
