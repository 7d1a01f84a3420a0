// Short human names for a cell's setup and traffic, shared by the terminal, Markdown and HTML outputs.

import type { Cell } from "../domain/cell.js";
import { DEFAULT_SETUP } from "../domain/setup.js";

/** The setup categories of a cell: network and direction, plus any non-default cpu/guest/hypervisor option. */
export function describeSetup(setup: Cell["setup"]): string {
  const parts = [`${setup.network} ${setup.direction}`];
  for (const category of ["cpu", "guest", "hypervisor"] as const) {
    if (setup[category] !== DEFAULT_SETUP[category]) parts.push(`${category}=${setup[category]}`);
  }
  return parts.join(" ");
}

/** The traffic of a cell, e.g. `tcp rr 64/64` or `udp paced 64/64 @10000/s`. */
export function describeTraffic(traffic: Cell["traffic"]): string {
  const rate = traffic.rate === "max" ? "" : ` @${traffic.rate}${traffic.rate === "peak" ? "" : "/s"}`;
  const driver = traffic.driver === "builtin" ? "" : `${traffic.driver} `;
  return `${driver}${traffic.protocol} ${traffic.pattern} ${traffic.requestSize}/${traffic.responseSize}${rate}`;
}

/** Setup and traffic in one line. */
export function describeCell(cell: Pick<Cell, "setup" | "traffic">): string {
  return `${describeSetup(cell.setup)}: ${describeTraffic(cell.traffic)}`;
}
