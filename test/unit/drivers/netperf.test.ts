import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import type { Traffic } from "../../../src/domain/traffic.js";
import { netperfArgv, netperfUnsupported } from "../../../src/drivers/netperf/argv.js";
import { parseNetperf } from "../../../src/drivers/netperf/parse.js";
import { netperfSample } from "../../../src/drivers/netperf/sample.js";

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/netperf/${name}`, import.meta.url), "utf8");

const traffic = (extra: Partial<Traffic> = {}): Traffic => ({
  protocol: "tcp",
  pattern: "rr",
  requestSize: 64,
  responseSize: 64,
  rate: "max",
  durationS: 2,
  warmupS: 0,
  driver: "netperf",
  ...extra,
});

test("TCP_RR -o: transactions, netperf's latency percentiles, CPU and service demand in tool", () => {
  const output = parseNetperf(fixture("tcp_rr_omni_selectors.txt"));
  assert.equal(output.test, "TCP REQUEST/RESPONSE");
  const sample = netperfSample(output, traffic(), 2);
  assert.equal(sample.messagesPerSecond, 19980.354);
  assert.equal(sample.messagesReceived, Math.round(19980.354 * 2));
  assert.equal(sample.durationS, 2);
  assert.equal(sample.latencyUs, null);
  assert.deepEqual(sample.tool?.latencyUs, {
    min: 4,
    mean: 49.92,
    p50: 65,
    p90: 76,
    p99: 142,
    max: 1637,
    stddev: 43.6,
  });
  assert.equal(sample.tool?.localCpuPercent, 25.86);
  assert.equal(sample.tool?.localServiceDemand, 25.888);
  assert.equal(sample.tool?.serviceDemandUnits, "usec/Tran");
  assert.equal(sample.throughputMbps, (19980.354 * 128 * 8) / 1e6);
});

test("TCP_CRR and UDP_RR: missing remote figures are null, sizes from the output", () => {
  const crr = netperfSample(
    parseNetperf(fixture("tcp_crr_omni_selectors.txt")),
    traffic({ pattern: "crr" }),
    2,
  );
  assert.equal(crr.messagesPerSecond, 15589.04);
  assert.equal(crr.tool?.remoteCpuPercent, null);
  const udp = netperfSample(
    parseNetperf(fixture("udp_rr_omni_selectors.txt")),
    traffic({ protocol: "udp" }),
    2,
  );
  assert.equal(udp.bytesSent, Math.round(17286.18 * 2) * 1400);
});

test("-k KEY=value output parses to the same selectors", () => {
  const output = parseNetperf(fixture("tcp_rr_keyval.txt"));
  assert.deepEqual(output.values, {
    THROUGHPUT: "14941.30",
    P50_LATENCY: "68",
    P99_LATENCY: "114",
    LOCAL_CPU_UTIL: "26.65",
  });
  assert.equal(netperfSample(output, traffic(), 2).messagesPerSecond, 14941.3);
});

test("streams: Mbit/s as delivered; UDP loss from send and receive calls", () => {
  const tcp = netperfSample(
    parseNetperf(fixture("tcp_stream_omni_selectors.txt")),
    traffic({ pattern: "stream", requestSize: 16384 }),
    2,
  );
  assert.equal(tcp.throughputMbps, 15562.74);
  assert.equal(tcp.tool?.remoteServiceDemand, 0.694);
  assert.equal(tcp.tool?.serviceDemandUnits, "usec/KB");
  const maerts = netperfSample(
    parseNetperf(fixture("tcp_maerts_omni_selectors.txt")),
    traffic({ pattern: "maerts" }),
    2,
  );
  assert.equal(maerts.throughputMbps, 14590.19);
  const udp = netperfSample(
    parseNetperf(fixture("udp_stream_omni_selectors.txt")),
    traffic({ protocol: "udp", pattern: "stream", requestSize: 1400 }),
    2,
  );
  assert.equal(udp.loss.sent, 1444986);
  assert.equal(udp.loss.received, 1431876);
  assert.equal(udp.bytesReceived, 2004626400);
});

test("errors and warnings: no netserver fails naming netperf; classic tables are refused; demo mode warns", () => {
  assert.throws(
    () => parseNetperf(fixture("error_no_netserver.txt")),
    /netperf: are you sure there is a netserver listening/,
  );
  assert.throws(() => parseNetperf(fixture("tcp_rr_default_cpu.txt")), /netperf: no output selectors found/);
  assert.throws(() => parseNetperf(fixture("tcp_rr_confidence.txt")), /no output selectors/);
  assert.throws(() => parseNetperf(fixture("tcp_rr_demo_interim.txt")), /no output selectors/);
  const confidence = parseNetperf(`${fixture("tcp_rr_confidence.txt")}\nTHROUGHPUT=16463.55\n`);
  assert.match(confidence.warnings[0] ?? "", /Desired confidence was not achieved/);
  assert.throws(
    () =>
      netperfSample(
        parseNetperf("THROUGHPUT=10\nTHROUGHPUT_UNITS=Trans/s\n"),
        traffic({ pattern: "stream" }),
        1,
      ),
    /THROUGHPUT_UNITS is "Trans\/s", expected "10\^6bits\/s"/,
  );
});

test("argv: omni test, -k selectors with latency for rr, sizes", () => {
  const argv = netperfArgv(traffic(), "127.0.0.1", 20000, 2);
  assert.deepEqual(argv.slice(0, 14), [
    "netperf",
    "-H",
    "127.0.0.1",
    "-p",
    "20000",
    "-t",
    "TCP_RR",
    "-l",
    "2",
    "-c",
    "-C",
    "-f",
    "m",
    "--",
  ]);
  assert.match(argv[15]!, /P99_LATENCY/);
  assert.deepEqual(argv.slice(-2), ["-r", "64,64"]);
  assert.deepEqual(netperfArgv(traffic({ protocol: "udp", pattern: "stream" }), "::1", 1, 1).slice(-2), [
    "-m",
    "64",
  ]);
});

test("unsupported names the driver and the pattern", () => {
  assert.equal(netperfUnsupported(traffic()), null);
  assert.match(
    netperfUnsupported(traffic({ protocol: "udp", pattern: "crr" })) ?? "",
    /driver netperf cannot do udp\/crr/,
  );
  assert.match(
    netperfUnsupported(traffic({ pattern: "paced", rate: 1000 })) ?? "",
    /driver netperf cannot do tcp\/paced/,
  );
  assert.match(netperfUnsupported(traffic({ rate: 1000 })) ?? "", /cannot pace/);
});
