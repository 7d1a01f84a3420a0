import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import type { Traffic } from "../../../src/domain/traffic.js";
import { sockperfClientArgv, sockperfUnsupported } from "../../../src/drivers/sockperf/argv.js";
import { parseSockperf, parseSockperfFullLog } from "../../../src/drivers/sockperf/parse.js";
import { sockperfLatencySample, sockperfThroughputSample } from "../../../src/drivers/sockperf/sample.js";

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/sockperf/${name}`, import.meta.url), "utf8");

const traffic = (extra: Partial<Traffic> = {}): Traffic => ({
  protocol: "udp",
  pattern: "rr",
  requestSize: 64,
  responseSize: 64,
  rate: "max",
  durationS: 1,
  warmupS: 0,
  driver: "sockperf",
  ...extra,
});

test("ping-pong: counts from the valid window, every RTT of the full log in the histogram", () => {
  const summary = parseSockperf(fixture("pp_udp.txt"));
  assert.deepEqual(summary.valid, { runtimeS: 0.549, sent: 1099, received: 1099 });
  const log = parseSockperfFullLog(fixture("pp_udp_full.csv"));
  assert.equal(log.messages, 1099);
  const sample = sockperfLatencySample(summary, log, traffic());
  assert.equal(sample.messagesReceived, 1099);
  assert.equal(sample.durationS, 0.549);
  assert.equal(sample.loss.ratio, 0);
  assert.deepEqual(sample.warnings, []);
  // The histogram agrees with sockperf's own percentiles to its 3 significant digits.
  const own = summary.percentilesUs;
  assert.ok(Math.abs(sample.latencyUs!.p50 - own["50.000"]!) / own["50.000"]! < 0.01);
  assert.ok(Math.abs(sample.latencyUs!.p99 - own["99.000"]!) / own["99.000"]! < 0.01);
  assert.equal(sample.latencyUs!.min, own["min"]);
  assert.ok(sample.histogram);
});

test("tcp ping-pong and under-load parse alike", () => {
  const tcp = sockperfLatencySample(
    parseSockperf(fixture("pp_tcp.txt")),
    parseSockperfFullLog(fixture("pp_tcp_full.csv")),
    traffic({ protocol: "tcp" }),
  );
  assert.equal(tcp.messagesReceived, 1099);
  const ul = sockperfLatencySample(
    parseSockperf(fixture("ul_udp.txt")),
    parseSockperfFullLog(fixture("ul_udp_full.csv")),
    traffic({ pattern: "paced", rate: 1000 }),
  );
  assert.equal(ul.messagesSent, 550);
  assert.equal(ul.latencyUs !== null, true);
});

test("loss: dropped messages count as sent but not received; only delivered ones are timed", () => {
  const summary = parseSockperf(fixture("ul_udp_loss.txt"));
  assert.equal(summary.dropped, 2198);
  const sample = sockperfLatencySample(
    summary,
    parseSockperfFullLog(fixture("ul_udp_loss_full.csv")),
    traffic({ pattern: "paced", rate: 5000, requestSize: 200, responseSize: 200 }),
  );
  assert.equal(sample.loss.sent, 2748);
  assert.equal(sample.loss.received, 553);
  assert.equal(sample.tool?.dropped, 2198);
  assert.ok(sample.latencyUs!.p50 > 10_000);
});

test("throughput: sent messages and bandwidth; udp loss is not measured and says so", () => {
  const udp = sockperfThroughputSample(
    parseSockperf(fixture("tp_udp.txt")),
    traffic({ pattern: "stream", requestSize: 1400 }),
  );
  assert.equal(udp.messagesSent, 732194);
  assert.equal(udp.throughputMbps, 7816.809);
  assert.match(udp.warnings[0] ?? "", /loss is not measured/);
  const tcp = sockperfThroughputSample(
    parseSockperf(fixture("tp_tcp.txt")),
    traffic({ protocol: "tcp", pattern: "stream", requestSize: 1400 }),
  );
  assert.equal(tcp.messagesPerSecond, 1211310);
  assert.deepEqual(tcp.warnings, []);
});

test("errors: sockperf exits 0, so its words fail the trial", () => {
  const log = parseSockperfFullLog("");
  assert.throws(
    () => sockperfLatencySample(parseSockperf(fixture("pp_udp_no_server.txt")), log, traffic()),
    /sockperf: No messages were received from the server/,
  );
  assert.throws(
    () => sockperfLatencySample(parseSockperf(fixture("pp_tcp_no_server.txt")), log, traffic()),
    /sockperf: Can`t connect socket \(errno=111 Connection refused\)/,
  );
  assert.throws(
    () => sockperfLatencySample(parseSockperf(fixture("pp_udp_interrupted.txt")), log, traffic()),
    /No messages were sent/,
  );
  assert.deepEqual(parseSockperf(fixture("server_port_in_use.txt")).errors, [
    "[fd=3] Can`t bind socket, IP to bind: 127.0.0.1:41111 (errno=98 Address already in use)",
  ]);
});

test("argv: ping-pong, under-load with every message answered, throughput", () => {
  assert.deepEqual(sockperfClientArgv(traffic(), "127.0.0.1", 20001, 2, "/tmp/x.csv"), [
    "sockperf",
    "ping-pong",
    "-i",
    "127.0.0.1",
    "-p",
    "20001",
    "-t",
    "2",
    "-m",
    "64",
    "--full-rtt",
    "--full-log",
    "/tmp/x.csv",
  ]);
  assert.deepEqual(
    sockperfClientArgv(
      traffic({ protocol: "tcp", pattern: "paced", rate: 5000 }),
      "127.0.0.1",
      20002,
      1,
      null,
    ),
    [
      "sockperf",
      "under-load",
      "--tcp",
      "-i",
      "127.0.0.1",
      "-p",
      "20002",
      "-t",
      "1",
      "-m",
      "64",
      "--mps",
      "5000",
      "--reply-every",
      "1",
      "--full-rtt",
    ],
  );
  assert.deepEqual(sockperfClientArgv(traffic({ pattern: "stream" }), "127.0.0.1", 20001, 1, null), [
    "sockperf",
    "throughput",
    "-i",
    "127.0.0.1",
    "-p",
    "20001",
    "-t",
    "1",
    "-m",
    "64",
  ]);
});

test("unsupported names the driver and the pattern", () => {
  assert.equal(sockperfUnsupported(traffic()), null);
  assert.match(sockperfUnsupported(traffic({ pattern: "crr" })) ?? "", /driver sockperf cannot do udp\/crr/);
  assert.match(sockperfUnsupported(traffic({ protocol: "icmp" })) ?? "", /tcp or udp/);
  assert.match(sockperfUnsupported(traffic({ pattern: "paced" })) ?? "", /paced needs a rate/);
  assert.match(sockperfUnsupported(traffic({ requestSize: 8, responseSize: 8 })) ?? "", /minimum of 14/);
});
