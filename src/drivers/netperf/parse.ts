// Pure parse of netperf omni output: `-k` KEY=value lines (what the driver asks for) or `-o` CSV
// (a header of human names, then values), both into selector-name → value.

import { RunError } from "../../errors.js";

/** Human column names of `-o` → the selector names `-k` prints. */
const CSV_NAMES: Record<string, string> = {
  Throughput: "THROUGHPUT",
  "Throughput Units": "THROUGHPUT_UNITS",
  "Local CPU Util %": "LOCAL_CPU_UTIL",
  "Remote CPU Util %": "REMOTE_CPU_UTIL",
  "Local Service Demand": "LOCAL_SD",
  "Remote Service Demand": "REMOTE_SD",
  "Service Demand Units": "SD_UNITS",
  "Minimum Latency Microseconds": "MIN_LATENCY",
  "Mean Latency Microseconds": "MEAN_LATENCY",
  "50th Percentile Latency Microseconds": "P50_LATENCY",
  "90th Percentile Latency Microseconds": "P90_LATENCY",
  "99th Percentile Latency Microseconds": "P99_LATENCY",
  "Maximum Latency Microseconds": "MAX_LATENCY",
  "Stddev Latency Microseconds": "STDDEV_LATENCY",
  "Transaction Rate Tran/s": "TRANSACTION_RATE",
  "Request Size Bytes": "REQUEST_SIZE",
  "Response Size Bytes": "RESPONSE_SIZE",
  "Elapsed Time (sec)": "ELAPSED_TIME",
  "Local Send Size": "LOCAL_SEND_SIZE",
  "Local Send Calls": "LOCAL_SEND_CALLS",
  "Remote Recv Calls": "REMOTE_RECV_CALLS",
  "Remote Bytes Received": "REMOTE_BYTES_RECVD",
  "Local Bytes Sent": "LOCAL_BYTES_SENT",
};

export interface NetperfOutput {
  /** e.g. `TCP REQUEST/RESPONSE`, from the `MIGRATED … TEST from` banner. */
  test: string | null;
  values: Record<string, string>;
  /** netperf's own warnings (confidence not reached, demo mode missing). */
  warnings: string[];
}

const BANNER = /^MIGRATED (.+?) TEST from/;
const KEYVAL = /^([A-Z0-9_]+)=(.*)$/;
const FAILURES = [/establish control: (.*)/, /^netperf: (.*)/, /send_omni: (.*)/, /recv_response: (.*)/];

export function parseNetperf(text: string): NetperfOutput {
  const lines = text.split("\n").map((line) => line.trimEnd());
  const failure = lines.map((line) => FAILURES.map((f) => f.exec(line)?.[1]).find(Boolean)).find(Boolean);
  if (failure) throw new RunError(`netperf: ${failure}`);
  let test: string | null = null;
  const values: Record<string, string> = {};
  const warnings: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const banner = BANNER.exec(line);
    if (banner) test = banner[1]!;
    else if (line.startsWith("!!! WARNING")) warnings.push(confidenceWarning(lines, i));
    else if (line.startsWith("Sorry, Demo Mode not configured"))
      warnings.push("netperf was built without demo mode");
    else if (KEYVAL.test(line)) {
      const [, key, value] = KEYVAL.exec(line)!;
      values[key!] = value!;
    } else if (line.includes(",") && CSV_NAMES[line.split(",")[0]!] && lines[i + 1] !== undefined) {
      const names = line.split(",");
      const row = lines[i + 1]!.split(",");
      names.forEach((name, column) => {
        values[CSV_NAMES[name] ?? name] = row[column] ?? "";
      });
      i++;
    }
  }
  if (Object.keys(values).length === 0) {
    throw new RunError(
      "netperf: no output selectors found: expected `-- -k SELECTORS` or `-- -o SELECTORS` output",
    );
  }
  return { test, values, warnings };
}

function confidenceWarning(lines: string[], start: number): string {
  const block: string[] = [];
  for (let i = start + 1; i < lines.length && lines[i]!.startsWith("!!!"); i++) {
    block.push(lines[i]!.replace(/^!!!\s*/, "").trim());
  }
  return `netperf: ${block.join(" ")}`;
}
