// Stores a RunView as a run of its own, to plant synthetic, altered or split runs beside real ones.

import type { RunView } from "../../src/report/run-view.js";
import { Store } from "../../src/storage/store.js";

export function storeRunView(db: string, view: RunView, id: string, metadata = view.metadata): void {
  const s = new Store(db);
  try {
    s.createRun(
      {
        id,
        createdAt: new Date().toISOString(),
        finishedAt: null,
        status: "completed",
        label: id,
        tester: "test",
        command: [],
        trials: view.trialsPerCell,
        metadata,
      },
      view.cells.map(({ key, setup, traffic }) => ({ key, setup, traffic })),
    );
    for (const trial of view.cells.flatMap((cell) => cell.trials)) s.recordTrial(id, trial);
  } finally {
    s.close();
  }
}
