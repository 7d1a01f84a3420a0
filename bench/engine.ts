// The built-in engine against the field's reference tools, measured in one run on loopback:
// rr latency and rate against `sockperf ping-pong --full-rtt`, stream throughput against iperf3,
// with client and server unpinned, pinned to different CPUs, and pinned to the same CPU; then
// open-loop (paced) achieved rate and sender lateness next to `sockperf under-load --mps`.
//
//   node --import tsx bench/engine.ts [seconds per trial, default 5]

import { execFileSync } from "node:child_process";
import type { Sample } from "../src/domain/sample.js";
import type { Traffic } from "../src/domain/traffic.js";
import type { TrafficPath } from "../src/drivers/driver.js";
import { driverFor } from "../src/drivers/registry.js";
import { LocalEndpoint } from "../src/endpoints/local.js";
import { formatTable } from "../src/report/table.js";

const seconds = Number(process.argv[2] ?? 5);

function ensureTools(): void {
  const missing = ["sockperf", "iperf3"].filter((tool) => {
    try {
      execFileSync("which", [tool], { stdio: "ignore" });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return;
  console.error(`installing ${missing.join(", ")} from Debian…`);
  execFileSync("apt-get", ["update", "-qq"], { stdio: "inherit" });
  execFileSync("apt-get", ["install", "-y", "-qq", ...missing], {
    stdio: "inherit",
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
}

/** This host, with every process it starts pinned to one CPU (or unpinned). */
class PinnedEndpoint extends LocalEndpoint {
  constructor(
    name: string,
    private readonly cpu: number | null,
  ) {
    super(name, "127.0.0.1", "host");
  }

  private pin(argv: readonly string[]): string[] {
    return this.cpu === null ? [...argv] : ["taskset", "-c", String(this.cpu), ...argv];
  }

  override exec(argv: readonly string[], options?: Parameters<LocalEndpoint["exec"]>[1]) {
    return super.exec(this.pin(argv), options);
  }

  override start(argv: readonly string[]) {
    return super.start(this.pin(argv));
  }
}

interface Placement {
  name: string;
  client: number | null;
  server: number | null;
}

const PLACEMENTS: Placement[] = [
  { name: "unpinned", client: null, server: null },
  { name: "different CPUs", client: 0, server: 1 },
  { name: "same CPU", client: 0, server: 0 },
];

function path(placement: Placement): TrafficPath {
  return {
    client: new PinnedEndpoint("client", placement.client),
    server: new PinnedEndpoint("server", placement.server),
    serverAddress: "127.0.0.1",
  };
}

function traffic(partial: Partial<Traffic>): Traffic {
  return {
    protocol: "tcp",
    pattern: "rr",
    requestSize: 64,
    responseSize: 64,
    rate: "max",
    durationS: seconds,
    warmupS: 1,
    driver: "builtin",
    ...partial,
  };
}

async function measure(driverName: Traffic["driver"], where: TrafficPath, what: Traffic): Promise<Sample> {
  const driver = driverFor(driverName);
  await driver.check(where);
  const session = await driver.prepare(where);
  try {
    const [sample] = await session.runTrial({ ...what, driver: driverName });
    return sample!;
  } finally {
    await session.close();
  }
}

const f = (value: number | undefined, digits = 1) => (value === undefined ? "-" : value.toFixed(digits));
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? `${(a / b).toFixed(2)}×` : "-");

async function main(): Promise<void> {
  ensureTools();
  const rrRows: string[][] = [];
  const streamRows: string[][] = [];
  for (const placement of PLACEMENTS) {
    const where = path(placement);
    const rr = traffic({});
    const ours = await measure("builtin", where, rr);
    const reference = await measure("sockperf", where, rr);
    rrRows.push([
      placement.name,
      f(ours.latencyUs?.p50),
      f(reference.latencyUs?.p50),
      ratio(ours.latencyUs?.p50, reference.latencyUs?.p50),
      f(ours.latencyUs?.p99),
      f(reference.latencyUs?.p99),
      ratio(ours.latencyUs?.p99, reference.latencyUs?.p99),
      f(ours.messagesPerSecond, 0),
      f(reference.messagesPerSecond, 0),
      ratio(ours.messagesPerSecond, reference.messagesPerSecond),
    ]);
    const stream = traffic({ pattern: "stream", requestSize: 131072, responseSize: 131072 });
    const oursStream = await measure("builtin", where, stream);
    const iperf = await measure("iperf3", where, stream);
    streamRows.push([
      placement.name,
      f(oursStream.throughputMbps, 0),
      f(iperf.throughputMbps, 0),
      ratio(oursStream.throughputMbps, iperf.throughputMbps),
    ]);
  }
  console.log(
    `\ntcp rr 64/64 on loopback, ${seconds} s per trial (µs, transactions/s; ratio = builtin / sockperf)`,
  );
  console.log(
    formatTable(
      [
        "placement",
        "p50 builtin",
        "p50 sockperf",
        "ratio",
        "p99 builtin",
        "p99 sockperf",
        "ratio",
        "tps builtin",
        "tps sockperf",
        "ratio",
      ],
      rrRows,
    ),
  );
  console.log(`\ntcp stream, 128 KiB writes (Mb/s; ratio = builtin / iperf3)`);
  console.log(formatTable(["placement", "builtin", "iperf3", "ratio"], streamRows));

  const pacedRows: string[][] = [];
  const where = path(PLACEMENTS[1]!);
  for (const rate of [10_000, 50_000, 100_000]) {
    const paced = traffic({ protocol: "udp", pattern: "paced", rate });
    const ours = await measure("builtin", where, paced);
    const reference = await measure("sockperf", where, paced);
    pacedRows.push([
      String(rate),
      f(ours.messagesPerSecond, 0),
      f(ours.lateness?.p50Us),
      f(ours.lateness?.p99Us),
      f(ours.latencyUs?.p50),
      f(ours.latencyUs?.p99),
      ours.generatorLimited ? "yes" : "no",
      f(reference.messagesPerSecond, 0),
      f(reference.latencyUs?.p50),
      f(reference.latencyUs?.p99),
    ]);
  }
  console.log(
    `\nudp paced 64/64, client on CPU 0, server on CPU 1 (latency from the intended send time, µs)`,
  );
  console.log(
    formatTable(
      [
        "offered/s",
        "builtin/s",
        "late p50",
        "late p99",
        "p50",
        "p99",
        "gen-limited",
        "sockperf/s",
        "sockperf p50",
        "sockperf p99",
      ],
      pacedRows,
    ),
  );
}

await main();
