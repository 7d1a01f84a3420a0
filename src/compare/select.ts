// Which stored run a comparison side names: an id, a unique id prefix, `latest`, or a label.

import { InputError } from "../errors.js";
import type { Store } from "../storage/store.js";

/** A run id, unique prefix or `latest`; or the latest run carrying a label. */
export type RunReference = string | { label: string };

/** The id of the most recent run with this label. */
export function resolveReference(store: Store, reference: RunReference): string {
  if (typeof reference === "string") return store.resolveRunId(reference);
  const runs = store.listRuns().filter((run) => run.label === reference.label);
  const latest = runs.at(-1);
  if (!latest)
    throw new InputError(
      `no run labelled '${reference.label}' in ${store.path} (see 'vnetbench runs' for labels)`,
    );
  return latest.id;
}
