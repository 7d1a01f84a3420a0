// How long a peak search takes and how many trials it uses: on a netns lab link shaped by tbf
// (a known capacity, the search's reference case) and on loopback (where the built-in generator,
// not the kernel, is expected to be the limit). Prints one row per search.
//
//   node --import tsx bench/peak.ts [searches per case, default 1]

import type { PeakResult } from "../src/analysis/peak-search.js";
import type { Protocol, Traffic } from "../src/domain/traffic.js";
import { builtinDriver } from "../src/drivers/builtin/driver.js";
import type { TrafficPath } from "../src/drivers/driver.js";
import { LocalEndpoint } from "../src/endpoints/local.js";
import { labDown, labUp, setLinkOptions } from "../src/labs/netns-lab.js";
import { fmt, formatTable } from "../src/report/table.js";
import { runPeakTrial } from "../src/run/peak.js";
import { resolveNetworkSetup } from "../src/setups/network.js";

const repeats = Number(process.argv[2] ?? 1);
const LAB = "vnbb8";

interface Case {
  name: string;
  protocol: Protocol;
  size: number;
  /** The capacity the path should show, msg/s, when known. */
  expected: number | null;
  path: () => TrafficPath;
}

const rows: string[][] = [];

async function bench(c: Case): Promise<void> {
  const traffic: Traffic = {
    protocol: c.protocol,
    pattern: "paced",
    requestSize: c.size,
    responseSize: c.size,
    rate: "peak",
    durationS: 5,
    warmupS: 1,
    driver: "builtin",
  };
  const session = await builtinDriver.prepare(c.path());
  try {
    for (let i = 0; i < repeats; i++) {
      const began = process.hrtime.bigint();
      const { peak } = await runPeakTrial(session, traffic, { host: new LocalEndpoint() });
      const seconds = Number(process.hrtime.bigint() - began) / 1e9;
      rows.push(row(c, peak, seconds));
      process.stderr.write(`${rows.at(-1)!.join("  ")}\n`);
    }
  } finally {
    await session.close();
  }
}

function row(c: Case, peak: PeakResult, seconds: number): string[] {
  const phases = (phase: string) => peak.curve.filter((p) => p.phase === phase).length;
  const off = peak.messagesPerSecond !== null && c.expected ? peak.messagesPerSecond / c.expected - 1 : null;
  return [
    c.name,
    fmt(c.expected),
    peak.messagesPerSecond === null ? "-" : fmt(peak.messagesPerSecond),
    off === null ? "-" : `${(off * 100).toFixed(1)}%`,
    peak.criterion,
    peak.generatorLimited ? fmt(peak.generatorLimited.messagesPerSecond) : "-",
    String(peak.trials),
    `${phases("unloaded")}/${phases("sweep")}/${phases("bisect")}/${phases("confirm")}`,
    seconds.toFixed(1),
  ];
}

const local = new LocalEndpoint("local", "127.0.0.1", "host");
const cases: Case[] = [
  {
    name: "loopback udp 64",
    protocol: "udp",
    size: 64,
    expected: null,
    path: () => ({ client: local, server: local, serverAddress: "127.0.0.1" }),
  },
  {
    name: "loopback tcp 64",
    protocol: "tcp",
    size: 64,
    expected: null,
    path: () => ({ client: local, server: local, serverAddress: "127.0.0.1" }),
  },
];

if (process.getuid?.() === 0) {
  const lab = await labUp({ name: LAB, baseSubnet: "10.239.0.0/16", force: true });
  try {
    await setLinkOptions(lab, "g1", { shaping: { rateMbit: 16 } });
    const path = () => resolveNetworkSetup("host-to-guest", { lab });
    // 16 Mbit/s over (14 + 20 + 8 + 1000) bytes per UDP message, (14 + 20 + 32 + 1000) per TCP one.
    await bench({
      name: "lab tbf 16 Mbit/s udp 1000",
      protocol: "udp",
      size: 1000,
      expected: 16e6 / (1042 * 8),
      path,
    });
    await bench({
      name: "lab tbf 16 Mbit/s tcp 1000",
      protocol: "tcp",
      size: 1000,
      expected: 16e6 / (1066 * 8),
      path,
    });
  } finally {
    await labDown(LAB);
  }
} else {
  process.stderr.write("not root: no netns lab, loopback only\n");
}
for (const c of cases) await bench(c);

process.stdout.write(
  `${formatTable(
    [
      "search",
      "capacity msg/s",
      "peak msg/s",
      "off",
      "criterion",
      "generator limit",
      "trials",
      "u/s/b/c",
      "seconds",
    ],
    rows,
  )}\n`,
);
