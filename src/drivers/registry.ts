// Driver names → drivers: the built-in engine and the field's own tools.

import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import type { Cell } from "../domain/cell.js";
import { type DriverName, flowsOf, ipOf, type Traffic } from "../domain/traffic.js";
import { peakUnsupported } from "../run/peak.js";
import { builtinDriver } from "./builtin/driver.js";
import { wireBinary } from "./builtin/wire.js";
import type { Driver } from "./driver.js";
import { iperf3Driver } from "./iperf3/driver.js";
import { netperfDriver } from "./netperf/driver.js";
import { pingDriver } from "./ping/driver.js";
import { sockperfDriver } from "./sockperf/driver.js";

const DRIVERS: Record<DriverName, Driver> = {
  builtin: builtinDriver,
  ping: pingDriver(),
  sockperf: sockperfDriver(),
  iperf3: iperf3Driver(),
  netperf: netperfDriver(),
};

/** Whether an executable is on this host's PATH. */
function onPath(tool: string): boolean {
  return (process.env.PATH ?? "").split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * The driver `auto` stands for: icmp goes to ping; open-loop (paced) latency to the built-in
 * engine where its native data path is built (bench/engine.ts: it keeps its schedule at loads
 * where sockperf's three threads fall behind on two CPUs), else to sockperf when it is installed
 * (Node's data path adds a tail of its own at high rates; its results flag it); everything else
 * to the built-in engine.
 */
export function autoDriver(
  traffic: Traffic,
  installed: (tool: string) => boolean = onPath,
  nativeDataPath: () => boolean = () => wireBinary() !== null,
): DriverName {
  if (traffic.protocol === "icmp") return "ping";
  if (traffic.pattern === "paced" && !nativeDataPath() && installed("sockperf")) return "sockperf";
  return "builtin";
}

export function driverFor(name: DriverName): Driver {
  return DRIVERS[name];
}

/** Drivers that run parallel flows (the built-in engine's sessions, iperf3's -P). */
const MULTI_FLOW: readonly DriverName[] = ["builtin", "iperf3"];
/** Drivers that send over IPv6 (sockperf 3.7 and netperf's omni tests here are driven over IPv4 only). */
const IPV6: readonly DriverName[] = ["builtin", "iperf3", "ping"];

/** Why a driver cannot run the traffic's flows or IP version, or null. */
function flowsOrIpUnsupported(traffic: Traffic): string | null {
  if (flowsOf(traffic) > 1 && !MULTI_FLOW.includes(traffic.driver))
    return `driver ${traffic.driver} runs one flow; parallel flows (${flowsOf(traffic)}) need driver ${MULTI_FLOW.join(" or ")}`;
  if (flowsOf(traffic) > 1 && traffic.rate === "peak")
    return "a peak search runs one flow (its offered rate is one flow's)";
  if (ipOf(traffic) === 6 && !IPV6.includes(traffic.driver))
    return `driver ${traffic.driver} is driven over IPv4 only; ip 6 needs driver ${IPV6.join(", ")}`;
  return null;
}

/** The reason a driver cannot run the traffic, for planning; a `peak` rate is a search over paced rates. */
export function whyUnsupported(traffic: Traffic): string | null {
  const gap = flowsOrIpUnsupported(traffic);
  if (gap) return gap;
  const unsupported = (t: Traffic) => DRIVERS[t.driver].unsupported(t);
  return traffic.rate === "peak" ? peakUnsupported(traffic, unsupported) : unsupported(traffic);
}

/** The reason a cell cannot run (its traffic, and its direction), checked before the first trial. */
export function whyCellUnsupported(cell: Cell): string | null {
  return (
    whyUnsupported(cell.traffic) ??
    DRIVERS[cell.traffic.driver].unsupported(cell.traffic, cell.setup.direction)
  );
}
