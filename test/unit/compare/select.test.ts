import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { resolveReference } from "../../../src/compare/select.js";
import { InputError } from "../../../src/errors.js";
import { Store } from "../../../src/storage/store.js";

const dir = mkdtempSync(join(tmpdir(), "vnb-select-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("a label names the latest run carrying it; ids and prefixes still work", () => {
  const store = new Store(join(dir, "runs.db"));
  const run = (id: string, label: string, createdAt: string) =>
    store.createRun(
      {
        id,
        createdAt,
        finishedAt: null,
        status: "completed",
        label,
        tester: "t",
        command: [],
        trials: 1,
        metadata: {},
      },
      [],
    );
  run("a1", "base", "2026-01-01T00:00:00.000Z");
  run("b1", "base", "2026-01-02T00:00:00.000Z");
  run("c1", "cand", "2026-01-03T00:00:00.000Z");
  try {
    assert.equal(resolveReference(store, { label: "base" }), "b1");
    assert.equal(resolveReference(store, { label: "cand" }), "c1");
    assert.equal(resolveReference(store, "a"), "a1");
    assert.equal(resolveReference(store, "latest"), "c1");
    assert.throws(
      () => resolveReference(store, { label: "nope" }),
      (error: unknown) => error instanceof InputError && /no run labelled 'nope'/.test(error.message),
    );
  } finally {
    store.close();
  }
});
