import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import type { Traffic } from "../../../src/domain/traffic.js";
import { iperf3ClientArgv, iperf3Unsupported } from "../../../src/drivers/iperf3/argv.js";
import { iperf3Samples, parseIperf3 } from "../../../src/drivers/iperf3/parse.js";

const fixture = (name: string) =>
  readFileSync(new URL(`../../fixtures/iperf3/${name}`, import.meta.url), "utf8");
const samples = (name: string) => iperf3Samples(parseIperf3(fixture(name)));

const traffic = (extra: Partial<Traffic> = {}): Traffic => ({
  protocol: "tcp",
  pattern: "stream",
  requestSize: 131072,
  responseSize: 131072,
  rate: "max",
  durationS: 1,
  warmupS: 0,
  driver: "iperf3",
  ...extra,
});

test("tcp stream: receiver's bytes and rate, retransmits and iperf3's own CPU in tool", () => {
  const [sample, ...rest] = samples("tcp_stream.json");
  assert.equal(rest.length, 0);
  assert.equal(sample!.direction, "forward");
  assert.equal(sample!.bytesSent, 2671247360);
  assert.equal(sample!.bytesReceived, 2673606762);
  assert.ok(Math.abs(sample!.throughputMbps - 21366.184574) < 1e-6);
  assert.equal(sample!.durationS, 1.001061);
  assert.equal(sample!.loss.ratio, 0);
  assert.equal(sample!.tool?.retransmits, 10);
  assert.equal(sample!.tool?.omitS, 1);
  assert.deepEqual(Object.keys(sample!.tool?.iperf3CpuPercent as object).slice(0, 1), ["host_total"]);
  // 99 % of a CPU on the client: the generator is the limit, and the Sample says so.
  assert.equal(sample!.generatorLimited, true);
});

test("maerts (-R) and parallel streams sum into one Sample", () => {
  assert.equal(samples("tcp_maerts.json")[0]!.tool?.retransmits, 25);
  const [parallel] = samples("tcp_parallel.json");
  assert.equal(parallel!.bytesReceived, 2929459200);
  assert.equal(parallel!.tool?.streams, 2);
});

test("bidirectional: a forward and a reverse Sample", () => {
  const [forward, reverse] = samples("tcp_bidir.json");
  assert.equal(forward!.direction, "forward");
  assert.equal(reverse!.direction, "reverse");
  assert.equal(reverse!.bytesReceived, 284819350);
});

test("udp: datagrams, loss, jitter", () => {
  const [clean] = samples("udp_stream.json");
  assert.equal(clean!.messagesSent, 8921);
  assert.equal(clean!.messagesReceived, 8921);
  assert.equal(clean!.generatorLimited, false);
  assert.equal(clean!.tool?.jitterMs, 0.002076509913019917);
  const [lossy] = samples("udp_stream_loss.json");
  assert.equal(lossy!.loss.sent, 648510);
  assert.equal(lossy!.loss.received, 648505 - 15267);
  assert.ok(lossy!.loss.ratio > 0.023 && lossy!.loss.ratio < 0.024);
  assert.equal(lossy!.tool?.lostPackets, 15267);
});

test("errors: iperf3's `error` fails the trial, naming iperf3", () => {
  assert.throws(() => samples("no_server.json"), /iperf3: unable to connect to server: Connection refused/);
  assert.throws(() => samples("tcp_interrupted.json"), /iperf3: interrupt - the client has terminated/);
  assert.throws(() => parseIperf3(fixture("server_port_in_use.txt")), /iperf3: expected JSON output/);
});

test("argv: rate in messages/s becomes bits/s; udp at max is unlimited; warm-up is --omit", () => {
  assert.deepEqual(
    iperf3ClientArgv(
      traffic({ protocol: "udp", requestSize: 1400, rate: 1000, warmupS: 1 }),
      "127.0.0.1",
      20000,
    ),
    [
      "iperf3",
      "--client",
      "127.0.0.1",
      "--port",
      "20000",
      "--json",
      "--time",
      "1",
      "--length",
      "1400",
      "--omit",
      "1",
      "--udp",
      "--bitrate",
      "11200000",
    ],
  );
  assert.ok(
    iperf3ClientArgv(traffic({ protocol: "udp" }), "::1", 1)
      .join(" ")
      .endsWith("--udp --bitrate 0"),
  );
  assert.ok(
    iperf3ClientArgv(traffic({ pattern: "maerts" }), "::1", 1, { parallel: 2, bidirectional: true })
      .join(" ")
      .endsWith("--reverse --parallel 2 --bidir"),
  );
});

test("unsupported names the driver and the pattern", () => {
  assert.equal(iperf3Unsupported(traffic()), null);
  assert.match(iperf3Unsupported(traffic({ pattern: "rr" })) ?? "", /driver iperf3 cannot do tcp\/rr/);
  assert.match(iperf3Unsupported(traffic({ protocol: "icmp" })) ?? "", /tcp or udp/);
});

test("-P: each stream's figures are kept beside the total; flows of a cell become --parallel", () => {
  const [sample] = samples("tcp_parallel.json");
  const flows = sample!.flows!;
  assert.equal(flows.length, 2);
  assert.deepEqual(
    flows.map((f) => f.flow),
    [1, 2],
  );
  const sum = flows.reduce((total, f) => total + f.bytesReceived, 0);
  assert.equal(sum, sample!.bytesReceived);
  assert.ok(Math.abs(flows[0]!.throughputMbps - 11718.462605733341) < 1e-6);
  assert.equal(samples("tcp_stream.json")[0]!.flows, undefined, "one stream: no per-flow list");
  const argv = iperf3ClientArgv(traffic({ flows: 2 }), "::1", 5201, { parallel: 2 });
  assert.deepEqual(argv.slice(argv.indexOf("--parallel"), argv.indexOf("--parallel") + 2), [
    "--parallel",
    "2",
  ]);
});
