// `vnetbench peak`: one cell's search stored as a run of one trial, committed when it ends.

import type { PeakSearchOptions } from "../analysis/peak-search.js";
import type { Cell, Trial } from "../domain/cell.js";
import { type DriverName, ipOf } from "../domain/traffic.js";
import { type Driver, pathOverIp, type TrafficPath } from "../drivers/driver.js";
import type { Endpoint } from "../endpoints/endpoint.js";
import { InterruptedError, RunError } from "../errors.js";
import type { Store } from "../storage/store.js";
import { currentOwner } from "./owner.js";
import { runPeakTrial } from "./peak.js";

export interface PeakRunDependencies {
  store: Store;
  driverFor(name: DriverName): Driver;
  pathFor(cell: Cell): Promise<TrafficPath>;
  host: Endpoint | null;
  search: PeakSearchOptions;
  signal?: AbortSignal;
}

/** Runs the search of the run's one cell and stores it; a failure is stored as a failed trial and rethrown as a RunError. */
export async function executePeakRun(runId: string, cell: Cell, deps: PeakRunDependencies): Promise<Trial> {
  const { store } = deps;
  const startedAt = new Date().toISOString();
  store.setRunStatus(runId, "running", null);
  store.setMetadataField(runId, "owner", currentOwner());
  let trial: Trial;
  try {
    const driver = deps.driverFor(cell.traffic.driver);
    const path = pathOverIp(await deps.pathFor(cell), ipOf(cell.traffic));
    await driver.check(path);
    const session = await driver.prepare(path);
    try {
      const measured = await runPeakTrial(session, cell.traffic, {
        host: deps.host,
        hosts: path.hosts,
        direction: cell.setup.direction,
        signal: deps.signal,
        search: deps.search,
      });
      trial = {
        cellKey: cell.key,
        trial: 1,
        status: "completed",
        startedAt,
        finishedAt: new Date().toISOString(),
        ...measured,
      };
    } finally {
      await session.close();
    }
  } catch (error) {
    const failed: Trial = {
      cellKey: cell.key,
      trial: 1,
      status: "failed",
      startedAt,
      finishedAt: new Date().toISOString(),
      samples: [],
      error: (error as Error).message,
    };
    if (deps.signal?.aborted) {
      store.setRunStatus(runId, "interrupted", failed.finishedAt);
      throw new InterruptedError(runId);
    }
    store.recordTrial(runId, failed);
    store.setRunStatus(runId, "failed", failed.finishedAt);
    throw new RunError(`peak search of ${cell.key}: ${failed.error}`);
  }
  store.recordTrial(runId, trial);
  store.setRunStatus(runId, "completed", trial.finishedAt);
  return trial;
}
