// Driver names → drivers: the built-in engine and the field's own tools.

import type { DriverName, Traffic } from "../domain/traffic.js";
import { peakUnsupported } from "../run/peak.js";
import { builtinDriver } from "./builtin/driver.js";
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

export function driverFor(name: DriverName): Driver {
  return DRIVERS[name];
}

/** The reason a driver cannot run the traffic, for planning; a `peak` rate is a search over paced rates. */
export function whyUnsupported(traffic: Traffic): string | null {
  const unsupported = (t: Traffic) => DRIVERS[t.driver].unsupported(t);
  return traffic.rate === "peak" ? peakUnsupported(traffic, unsupported) : unsupported(traffic);
}
