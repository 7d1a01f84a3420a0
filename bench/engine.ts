// The built-in engine against the field's reference tools, measured in one run on loopback:
// request/response (tcp and udp) against `sockperf ping-pong --full-rtt` with client and server
// unpinned, on different CPUs and on one CPU; open-loop (paced) latency, achieved rate, sender
// lateness and receive lag against `sockperf under-load --mps --full-rtt`, unpinned; stream
// throughput against iperf3. The built-in engine runs on its native data path where it is built;
// VNETBENCH_DATA_PATH=node measures Node's.
//
//   node --import tsx bench/engine.ts [seconds per trial, default 4] [rr,paced,stream] [node]

import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Sample } from "../src/domain/sample.js";
import type { Traffic } from "../src/domain/traffic.js";
import { DATA_PATH_ENV } from "../src/drivers/builtin/wire.js";
import type { TrafficPath } from "../src/drivers/driver.js";
import { driverFor } from "../src/drivers/registry.js";
import { LocalEndpoint } from "../src/endpoints/local.js";
import { formatTable } from "../src/report/table.js";

const seconds = Number(process.argv[2] ?? 4);
const sections = new Set((process.argv[3] ?? "rr,paced,stream").split(","));
/** With "node", Node's data path is measured too, interleaved, as the before of the native one. */
const withNode = process.argv[4] === "node";

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

async function measure(
  driverName: Traffic["driver"],
  where: TrafficPath,
  what: Traffic,
  dataPath: "native" | "node" = "native",
): Promise<Sample> {
  const driver = driverFor(driverName);
  await driver.check(where);
  // The agents take the data path from the environment they start in.
  if (dataPath === "node") process.env[DATA_PATH_ENV] = "node";
  try {
    const session = await driver.prepare(where);
    try {
      const [sample] = await session.runTrial({ ...what, driver: driverName });
      return sample!;
    } finally {
      await session.close();
    }
  } finally {
    delete process.env[DATA_PATH_ENV];
  }
}

const f = (value: number | null | undefined, digits = 1) =>
  value === undefined || value === null ? "-" : value.toFixed(digits);
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? `${(a / b).toFixed(2)}×` : "-");
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function requestResponse(): Promise<void> {
  const rows: string[][] = [];
  let dataPath = "";
  for (const protocol of ["udp", "tcp"] as const) {
    for (const placement of PLACEMENTS) {
      const where = path(placement);
      const rr = traffic({ protocol });
      const ours = await measure("builtin", where, rr);
      dataPath = ours.dataPath ?? "node";
      const reference = await measure("sockperf", where, rr);
      const node = withNode ? await measure("builtin", where, rr, "node") : null;
      rows.push([
        `${protocol} ${placement.name}`,
        f(ours.latencyUs?.p50),
        f(reference.latencyUs?.p50),
        ratio(ours.latencyUs?.p50, reference.latencyUs?.p50),
        f(ours.latencyUs?.p99),
        f(reference.latencyUs?.p99),
        ratio(ours.latencyUs?.p99, reference.latencyUs?.p99),
        f(ours.messagesPerSecond, 0),
        f(reference.messagesPerSecond, 0),
        ...(node
          ? [
              ratio(node.latencyUs?.p50, reference.latencyUs?.p50),
              ratio(node.latencyUs?.p99, reference.latencyUs?.p99),
            ]
          : []),
      ]);
    }
  }
  console.log(
    `\nrr 64/64 on loopback, ${seconds} s per trial (µs, transactions/s; ratio = builtin / sockperf; built-in data path: ${dataPath})`,
  );
  console.log(
    formatTable(
      [
        "protocol, placement",
        "p50",
        "sockperf",
        "ratio",
        "p99",
        "sockperf",
        "ratio",
        "tps",
        "sockperf",
        ...(withNode ? ["Node's p50 ratio", "Node's p99 ratio"] : []),
      ],
      rows,
    ),
  );
}

/** What this machine takes from any spinning thread: time lost in gaps, and the longest gaps. */
/** bench/spin-probe.c, compiled into `dir`. */
function spinProbe(dir: string): string {
  const binary = join(dir, "spin-probe");
  execFileSync("cc", ["-O2", "-o", binary, fileURLToPath(new URL("spin-probe.c", import.meta.url))]);
  return binary;
}

const PACED_RATES = [1_000, 10_000, 50_000, 100_000];

/**
 * Lateness p99 (µs) that a sender costing nothing would have on a schedule of `rate` messages/s
 * through these gaps: a message due inside a gap leaves when the gap ends.
 */
function bareLatenessP99(gaps: Array<[number, number]>, rate: number): number {
  const intervalUs = 1e6 / rate;
  const late: number[] = [];
  for (const [from, to] of gaps) {
    for (let due = Math.ceil(from / intervalUs) * intervalUs; due < to; due += intervalUs)
      late.push(to - due);
  }
  const slots = 3 * rate;
  late.sort((a, b) => b - a);
  return late[Math.floor(slots / 100)] ?? 0;
}

function machineJitter(probe: string): string {
  const gaps: Array<[number, number]> = JSON.parse(execFileSync(probe, { encoding: "utf8" }));
  const long = gaps.map(([from, to]) => to - from).filter((gap) => gap > 20);
  const lostPercent = long.reduce((a, b) => a + b, 0) / 30_000;
  const longestUs = long.sort((a, b) => b - a).slice(0, 3);
  const floor = PACED_RATES.map((rate) => f(bareLatenessP99(gaps, rate))).join(" / ");
  return `a spinning thread here lost ${lostPercent.toFixed(2)} % of 3 s to gaps > 20 µs, the longest ${longestUs.map((gap) => gap.toFixed(0)).join(", ")} µs; a sender costing nothing would be late p99 ${floor} µs at ${PACED_RATES.join(" / ")} msg/s`;
}

async function paced(): Promise<void> {
  const rows: string[][] = [];
  const dataPaths = new Set<string>();
  const where = path(PLACEMENTS[0]!);
  const probeDir = mkdtempSync(join(tmpdir(), "vnb-spin-"));
  const probe = spinProbe(probeDir);
  const before = machineJitter(probe);
  for (const protocol of ["udp", "tcp"] as const) {
    for (const rate of PACED_RATES) {
      const what = traffic({ protocol, pattern: "paced", rate });
      // This VM's wake-up noise moves both tools' p99 from run to run: pairs interleaved, median of 3.
      const ours: Sample[] = [];
      const reference: Sample[] = [];
      const node: Sample[] = [];
      for (let i = 0; i < 3; i++) {
        ours.push(await measure("builtin", where, what));
        reference.push(await measure("sockperf", where, what));
        if (withNode) node.push(await measure("builtin", where, what, "node"));
      }
      const mid = (samples: Sample[], pick: (s: Sample) => number | null | undefined) =>
        median(samples.map((s) => pick(s) ?? Number.NaN));
      const p50 = mid(ours, (s) => s.latencyUs?.p50);
      const p99 = mid(ours, (s) => s.latencyUs?.p99);
      const pathP99 = mid(ours, (s) => s.pathLatency?.p99Us);
      const refP50 = mid(reference, (s) => s.latencyUs?.p50);
      const refP99 = mid(reference, (s) => s.latencyUs?.p99);
      const sent = mid(ours, (s) => s.messagesSent / s.durationS);
      const refSent = mid(reference, (s) => s.messagesSent / s.durationS);
      dataPaths.add(ours[0]?.dataPath ?? "node");
      rows.push([
        `${protocol} ${rate}`,
        f(refP50),
        f(refP99),
        f(p50),
        f(p99),
        ratio(p50, refP50),
        ratio(p99, refP99),
        f(pathP99),
        ratio(pathP99, refP99),
        `${(((sent ?? 0) / rate - 1) * 100).toFixed(2)} %`,
        `${(((refSent ?? 0) / rate - 1) * 100).toFixed(2)} %`,
        f(mid(ours, (s) => s.lateness?.p99Us)),
        f(mid(ours, (s) => s.receiveLag?.p99Us)),
        `${ours.filter((s) => s.generatorLimited).length}/3`,
        reference.map((s) => f(s.latencyUs?.p99, 0)).join("/"),
        ours.map((s) => f(s.latencyUs?.p99, 0)).join("/"),
        ...(withNode
          ? [
              f(mid(node, (s) => s.latencyUs?.p50)),
              f(mid(node, (s) => s.latencyUs?.p99)),
              f(mid(node, (s) => s.lateness?.p99Us)),
            ]
          : []),
      ]);
    }
  }
  console.log(
    `\npaced 64/64 on loopback, unpinned, ${seconds} s per trial, median of 3 interleaved pairs (µs; our latency from the intended send time, sockperf's from its actual send; path = ours with the tool's own delays taken out)`,
  );
  console.log(`machine: before, ${before}; after, ${machineJitter(probe)}`);
  rmSync(probeDir, { recursive: true, force: true });
  console.log(`built-in data path: ${[...dataPaths].join(", ")}`);
  console.log(
    formatTable(
      [
        "protocol, rate",
        "sockperf p50",
        "sockperf p99",
        "p50",
        "p99",
        "p50 ratio",
        "p99 ratio",
        "path p99",
        "path ratio",
        "sent vs offered",
        "sockperf sent",
        "late p99",
        "rx lag p99",
        "gen-limited",
        "sockperf p99 runs",
        "p99 runs",
        ...(withNode ? ["Node's p50", "Node's p99", "Node's late p99"] : []),
      ],
      rows,
    ),
  );
}

async function stream(): Promise<void> {
  const rows: string[][] = [];
  for (const placement of PLACEMENTS) {
    const where = path(placement);
    const what = traffic({ pattern: "stream", requestSize: 131072, responseSize: 131072 });
    const ours = await measure("builtin", where, what);
    const iperf = await measure("iperf3", where, what);
    rows.push([
      placement.name,
      f(ours.throughputMbps, 0),
      f(iperf.throughputMbps, 0),
      ratio(ours.throughputMbps, iperf.throughputMbps),
    ]);
  }
  console.log(`\ntcp stream, 128 KiB writes (Mb/s; ratio = builtin / iperf3)`);
  console.log(formatTable(["placement", "builtin", "iperf3", "ratio"], rows));
}

ensureTools();
if (sections.has("rr")) await requestResponse();
if (sections.has("paced")) await paced();
if (sections.has("stream")) await stream();
