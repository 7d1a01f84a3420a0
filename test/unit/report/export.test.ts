import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CSV_HEADER, csvField, runCsv, runJson, serializeRun } from "../../../src/report/export.js";
import { cpuSummary, makeRun, spread } from "./run-fixture.js";

/** Splits CSV text into records of fields (RFC 4180: quoted fields may hold commas, quotes, breaks). */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  // A field is quoted ("" inside is one quote) or runs to the next comma or CRLF.
  const token = /"((?:[^"]|"")*)"|([^,\r\n]*)/y;
  let record: string[] = [];
  let at = 0;
  while (at < text.length) {
    token.lastIndex = at;
    const match = token.exec(text)!;
    record.push(match[1] !== undefined ? match[1].replace(/""/g, '"') : match[2]!);
    at = token.lastIndex;
    if (text.startsWith("\r\n", at)) {
      records.push(record);
      record = [];
      at += 2;
    } else at += 1; // the comma
  }
  return records;
}

describe("csvField", () => {
  it("quotes fields with commas, quotes or line breaks, and leaves the rest", () => {
    assert.equal(csvField("plain"), "plain");
    assert.equal(csvField(12.5), "12.5");
    assert.equal(csvField(true), "true");
    assert.equal(csvField(null), "");
    assert.equal(csvField(undefined), "");
    assert.equal(csvField('say "hi", twice'), '"say ""hi"", twice"');
    assert.equal(csvField("two\nlines"), '"two\nlines"');
  });
});

describe("runCsv", () => {
  const run = makeRun("run-1", [
    {
      trials: [...spread(2, 50).map((t) => ({ ...t, cpu: cpuSummary(0.4) })), { latencyUs: 0, failed: true }],
    },
    { traffic: { protocol: "udp", rate: 5000, pattern: "paced" }, trials: spread(2, 30) },
  ]);
  const records = parseCsv(runCsv(run));

  it("has a header and one row per trial, failed ones included", () => {
    assert.deepEqual(records[0], CSV_HEADER);
    assert.equal(records.length, 1 + 3 + 2);
    for (const record of records) assert.equal(record.length, CSV_HEADER.length);
  });

  it("carries the cell's parameters and the sample's fields", () => {
    const row = Object.fromEntries(CSV_HEADER.map((name, i) => [name, records[4]![i]]));
    assert.equal(row.run_id, "run-1");
    assert.equal(row.protocol, "udp");
    assert.equal(row.pattern, "paced");
    assert.equal(row.rate, "5000");
    assert.equal(row.trial, "1");
    assert.equal(row.status, "completed");
    assert.equal(row.direction, "forward");
    assert.equal(Number(row.latency_p50_us), run.cells[1]!.trials[0]!.samples[0]!.latencyUs!.p50);
    assert.equal(row.generator_limited, "false");
    assert.equal(row.host_cpu_seconds, "");
  });

  it("leaves a failed trial's sample fields empty and keeps its error; CPU when the trial has it", () => {
    const column = (name: string) => CSV_HEADER.indexOf(name);
    const failed = records[3]!;
    assert.equal(failed[column("status")], "failed");
    assert.equal(failed[column("error")], "agent died");
    assert.equal(failed[column("latency_p50_us")], "");
    assert.equal(records[1]![column("host_cpu_seconds")], "0.4");
  });
});

describe("runJson", () => {
  it("is the RunView, histograms included", () => {
    const run = makeRun("run-1", [{ trials: spread(2, 50) }]);
    assert.deepEqual(JSON.parse(runJson(run)), JSON.parse(JSON.stringify(run)));
    assert.equal(serializeRun(run, "json"), runJson(run));
    assert.equal(serializeRun(run, "csv"), runCsv(run));
  });
});
