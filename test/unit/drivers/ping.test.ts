import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import type { Traffic } from "../../../src/domain/traffic.js";
import { pingArgv, pingUnsupported } from "../../../src/drivers/ping/argv.js";
import { parsePing } from "../../../src/drivers/ping/parse.js";
import { pingSample } from "../../../src/drivers/ping/sample.js";

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/ping/${name}`, import.meta.url), "utf8");

const traffic = (extra: Partial<Traffic> = {}): Traffic => ({
  protocol: "icmp",
  pattern: "rr",
  requestSize: 56,
  responseSize: 56,
  rate: 100,
  durationS: 2,
  warmupS: 0,
  driver: "ping",
  ...extra,
});

test("paced pings: every reply's RTT in the histogram, the statistics line in loss and tool", () => {
  const result = parsePing(fixture("paced_ok.txt"));
  assert.equal(result.payloadBytes, 56);
  assert.equal(result.histogram.totalCount, 20);
  const sample = pingSample(result, traffic(), 0.3);
  assert.deepEqual(sample.loss, { sent: 20, received: 20, ratio: 0, reordered: 0, duplicates: 0 });
  assert.equal(sample.latencyUs?.min, 3);
  // ping prints µs; the histogram keeps 3 significant digits.
  assert.ok(Math.abs((sample.latencyUs?.max ?? 0) - 45) < 0.05);
  assert.deepEqual(sample.tool?.rttUs, { min: 3, avg: 24, max: 45, mdev: 17 });
  assert.ok(sample.histogram);
  assert.equal(sample.messagesPerSecond, 20 / 0.3);
  assert.equal(sample.bytesSent, 20 * 56);
});

test("loss: transmitted beyond received, pipe in tool", () => {
  const sample = pingSample(
    parsePing(fixture("paced_loss.txt")),
    traffic({ requestSize: 1400, responseSize: 1400 }),
    3,
  );
  assert.equal(sample.loss.sent, 102);
  assert.equal(sample.loss.received, 100);
  assert.equal(sample.loss.ratio, 2 / 102);
  assert.equal(sample.latencyUs !== null, true);
  assert.equal(sample.tool?.pipe, 3);
});

test("flood: no per-reply lines, so no percentiles — ping's own figures and a warning", () => {
  const sample = pingSample(
    parsePing(fixture("flood_loss.txt")),
    traffic({ pattern: "flood", rate: "max" }),
    1,
  );
  assert.equal(sample.latencyUs, null);
  assert.equal(sample.histogram, null);
  assert.equal(sample.loss.sent, 46);
  assert.equal(sample.loss.received, 44);
  assert.deepEqual(sample.tool?.rttUs, { min: 448, avg: 53961, max: 69296, mdev: 15265 });
  assert.equal(sample.tool?.ipgUs, 21939);
  assert.match(sample.warnings[0] ?? "", /no per-reply RTTs/);
  const ok = pingSample(parsePing(fixture("flood_quiet.txt")), traffic({ pattern: "flood", rate: "max" }), 1);
  assert.equal(ok.messagesReceived, 476615);
  assert.equal(ok.messagesPerSecond, 476615);
});

test("adaptive (rr at rate max): per-reply RTTs", () => {
  const result = parsePing(fixture("adaptive.txt"));
  assert.equal(result.histogram.totalCount, 50);
  assert.equal(result.summary?.received, 50);
});

test("interrupted by SIGINT: ping still prints its statistics", () => {
  const result = parsePing(fixture("interrupted.txt"));
  assert.equal(result.summary?.transmitted, 32);
  assert.equal(result.histogram.totalCount, 32);
});

test("errors: unreachable network and unknown host fail naming ping and the reason", () => {
  assert.throws(
    () => pingSample(parsePing(fixture("unreachable.txt")), traffic(), 1),
    /ping: .*Network is unreachable/,
  );
  assert.throws(
    () => pingSample(parsePing(fixture("unknown_host.txt")), traffic(), 1),
    /Name or service not known/,
  );
});

test("payload below 16 bytes: replies without a time are counted, not timed", () => {
  const result = parsePing(fixture("tiny_size.txt"));
  assert.equal(result.repliesWithoutTime, 3);
  assert.equal(result.histogram.totalCount, 0);
});

test("duplicates and 16-bit sequence wrap-around (lines in iputils' format)", () => {
  const line = (seq: number, dup = false) =>
    `64 bytes from 127.0.0.1: icmp_seq=${seq} ttl=64 time=0.050 ms${dup ? " (DUP!)" : ""}`;
  const text = [line(65534), line(65535), line(0), line(0, true), line(2), line(1)].join("\n");
  const result = parsePing(text);
  assert.equal(result.sequence.received, 5);
  assert.equal(result.sequence.duplicates, 1);
  assert.equal(result.sequence.reordered, 1);
  assert.equal(result.histogram.totalCount, 5);
});

test("argv: paced from the rate, adaptive at max, flood quiet", () => {
  assert.deepEqual(pingArgv(traffic({ rate: 100 }), "127.0.0.1", 2), [
    "ping",
    "-n",
    "-s",
    "56",
    "-i",
    "0.010000",
    "-c",
    "200",
    "-w",
    "4",
    "127.0.0.1",
  ]);
  assert.deepEqual(pingArgv(traffic({ rate: "max" }), "::1", 2), [
    "ping",
    "-n",
    "-s",
    "56",
    "-A",
    "-w",
    "2",
    "::1",
  ]);
  assert.deepEqual(pingArgv(traffic({ pattern: "flood", rate: "max" }), "127.0.0.1", 1), [
    "ping",
    "-n",
    "-s",
    "56",
    "-f",
    "-q",
    "-w",
    "1",
    "127.0.0.1",
  ]);
});

test("unsupported names the driver and the pattern", () => {
  assert.equal(pingUnsupported(traffic()), null);
  assert.match(pingUnsupported(traffic({ pattern: "crr" })) ?? "", /driver ping cannot do icmp\/crr/);
  assert.match(pingUnsupported(traffic({ protocol: "tcp" })) ?? "", /driver ping .*only sends protocol icmp/);
  assert.match(pingUnsupported(traffic({ requestSize: 8, responseSize: 8 })) ?? "", /no RTT/);
  assert.match(pingUnsupported(traffic({ responseSize: 100 })) ?? "", /as big as its request/);
  assert.match(pingUnsupported(traffic({ pattern: "flood", rate: 10 })) ?? "", /flood has no rate/);
});
