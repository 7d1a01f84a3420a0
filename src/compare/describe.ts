// Short human names for a cell's setup and traffic, shared by the terminal, Markdown and HTML outputs.

import type { Cell } from "../domain/cell.js";
import { DEFAULT_SETUP } from "../domain/setup.js";
import { flowsOf, ipOf } from "../domain/traffic.js";

/** ` 4 flows`, ` ipv6`: the flows and IP version of a traffic, always or only where not the default. */
function flowsAndIp(traffic: Cell["traffic"], always = { flows: false, ip: false }): string {
  const flows = flowsOf(traffic);
  const flowsText = always.flows || flows > 1 ? ` ${flows} flow${flows > 1 ? "s" : ""}` : "";
  const ipText = always.ip || ipOf(traffic) !== 4 ? ` ipv${ipOf(traffic)}` : "";
  return flowsText + ipText;
}

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
  return `${driver}${traffic.protocol} ${traffic.pattern} ${traffic.requestSize}/${traffic.responseSize}${rate}${flowsAndIp(traffic)}`;
}

/** Setup and traffic in one line. */
export function describeCell(cell: Pick<Cell, "setup" | "traffic">): string {
  return `${describeSetup(cell.setup)}: ${describeTraffic(cell.traffic)}`;
}

/**
 * A row name per cell key for a table of these cells: setup and traffic, plus every option that
 * differs between the cells or is not the default (direction, cpu, guest, hypervisor, the
 * measured window), named even where one of the cells has the default.
 */
export function describeCells(
  cells: readonly Pick<Cell, "key" | "setup" | "traffic">[],
): Map<string, string> {
  const shown = <T>(pick: (cell: (typeof cells)[number]) => T, byDefault: T) =>
    new Set(cells.map(pick)).size > 1 || cells.some((cell) => pick(cell) !== byDefault);
  const categories = (["cpu", "guest", "hypervisor"] as const).filter((category) =>
    shown((cell) => cell.setup[category], DEFAULT_SETUP[category]),
  );
  const direction = shown((cell) => cell.setup.direction, DEFAULT_SETUP.direction);
  const timing = new Set(cells.map((cell) => `${cell.traffic.durationS}+${cell.traffic.warmupS}`)).size > 1;
  const always = {
    flows: new Set(cells.map((cell) => flowsOf(cell.traffic))).size > 1,
    ip: new Set(cells.map((cell) => ipOf(cell.traffic))).size > 1,
  };
  return new Map(
    cells.map((cell) => {
      const { setup, traffic } = cell;
      const rate = traffic.rate === "max" ? "" : ` @${traffic.rate}${traffic.rate === "peak" ? "" : "/s"}`;
      const parts = [
        setup.network,
        direction ? (setup.direction === "bidirectional" ? "bidi" : "one-way") : "",
        ...categories.map((category) => `${category === "hypervisor" ? "hv" : category}=${setup[category]}`),
        `${traffic.driver} ${traffic.protocol} ${traffic.pattern} ${traffic.requestSize}/${traffic.responseSize}${rate}${flowsAndIp(traffic, always)}`,
        timing ? `${traffic.durationS}s+${traffic.warmupS}s` : "",
      ];
      return [cell.key, parts.filter(Boolean).join(" ")];
    }),
  );
}
