// Progress of a run on stderr: a live line on a terminal, nothing otherwise (data goes to stdout).

import { describeCells } from "../compare/describe.js";
import type { RunEvent } from "../run/runner.js";

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, "0")}`;
}

function bar(done: number, total: number, width = 20): string {
  const filled = total > 0 ? Math.round((done / total) * width) : 0;
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
}

export function progressReporter(stream: NodeJS.WriteStream): (event: RunEvent) => void {
  const live = stream.isTTY === true;
  let cells = 0;
  return (event) => {
    switch (event.type) {
      case "run-start":
        cells = event.cells;
        stream.write(
          `run ${event.runId}: ${event.cells} cells, ${event.trials} trials${event.alreadyDone ? ` (${event.alreadyDone} already done)` : ""}\n`,
        );
        break;
      case "trial-start": {
        if (!live) break;
        const { traffic, setup } = event.cell;
        // Setup options show when they are not the defaults (matrix runs name them).
        const options = [
          setup.direction === "bidirectional" ? "bidi" : "",
          setup.cpu !== "none" ? `cpu=${setup.cpu}` : "",
          setup.guest !== "default" ? `guest=${setup.guest}` : "",
          setup.hypervisor !== "default" ? `hv=${setup.hypervisor}` : "",
        ].filter(Boolean);
        const what = [
          setup.network,
          ...options,
          `${traffic.protocol} ${traffic.pattern} ${traffic.requestSize}/${traffic.responseSize} rate=${traffic.rate}`,
        ].join(" ");
        const line = `cell ${event.cellIndex + 1}/${cells} trial ${event.trial} ${bar(event.done, event.total)} ${event.done}/${event.total} ${what}  ETA ${clock(event.etaS)}`;
        stream.write(`\r\x1b[2K${line.slice(0, Math.max(40, (stream.columns ?? 200) - 1))}`);
        break;
      }
      case "round": {
        const names = describeCells(event.open);
        const shown = [...names.values()].slice(0, 6).join(", ");
        stream.write(
          `${live ? "\r\x1b[2K" : ""}round ${event.round}: ${event.open.length} of ${event.cells} cells open: ${shown}${event.open.length > 6 ? ", …" : ""}\n`,
        );
        break;
      }
      case "trial-end":
        if (event.result.status === "failed")
          stream.write(`${live ? "\r\x1b[2K" : ""}trial failed: ${event.result.error}\n`);
        break;
      case "warning":
        stream.write(`${live ? "\r\x1b[2K" : ""}warning: ${event.message}\n`);
        break;
      case "note":
        stream.write(`${live ? "\r\x1b[2K" : ""}${event.message}\n`);
        break;
      case "run-end":
        stream.write(`${live ? "\r\x1b[2K" : ""}run ${event.runId} ${event.status}\n`);
        break;
    }
  };
}
