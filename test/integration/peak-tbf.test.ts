// Proof on a known bottleneck: one link of a real netns lab shaped by a token bucket (tbf) to a
// rate whose capacity in messages/s is computed from the bytes tbf counts per message; the peak
// search must find that capacity within ±10 %, for UDP and TCP, at two rates. One of the four
// goes through the CLI, so the stored run, `show` and `--json` are proven on the way.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, type TestContext, test } from "node:test";
import type { PeakResult } from "../../src/analysis/peak-search.js";
import type { Protocol, Traffic } from "../../src/domain/traffic.js";
import { builtinDriver } from "../../src/drivers/builtin/driver.js";
import { LocalEndpoint } from "../../src/endpoints/local.js";
import { type Lab, labDown, labUp, setLinkOptions } from "../../src/labs/netns-lab.js";
import type { RunView } from "../../src/report/run-view.js";
import { runPeakTrial } from "../../src/run/peak.js";
import { resolveNetworkSetup } from "../../src/setups/network.js";
import { runCli } from "../helpers/cli.js";

const LAB = "vnbt8";
const SIZE = 1000;
const root = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), "vnb-peak-"));
let lab: Lab;

before(async () => {
  if (root) lab = await labUp({ name: LAB, baseSubnet: "10.238.0.0/16", force: true });
});
after(async () => {
  if (root) await labDown(LAB);
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Messages/s a tbf of `mbit` lets through. tbf charges each packet its length as the veth hands it
 * over — the Ethernet header (14 bytes) and up, no preamble or FCS — and shapes each end's egress,
 * so requests (host1 → g1) and equal-sized responses (g1 → host1) each get the whole rate:
 *   UDP: 14 + 20 (IPv4) + 8 (UDP) + 1000 = 1042 bytes → 8 Mbit/s / (1042 × 8 bit) = 959.7 msg/s;
 *   TCP: 14 + 20 + 32 (TCP with the timestamps option) + 1000 = 1066 bytes → 938.1 msg/s
 * (one message per segment below capacity; ACKs ride on the next request or response).
 * At 16 Mbit/s, twice that: 1919 and 1876 msg/s.
 */
function capacity(protocol: Protocol, mbit: number): number {
  const headers = 14 + 20 + (protocol === "udp" ? 8 : 32);
  return (mbit * 1e6) / ((headers + SIZE) * 8);
}

const traffic = (protocol: Protocol): Traffic => ({
  protocol,
  pattern: "paced",
  requestSize: SIZE,
  responseSize: SIZE,
  rate: "peak",
  durationS: 2,
  warmupS: 0.5,
  driver: "builtin",
});

// A search that ended generator-limited is run again. On this VM the sender's wake-ups at about
// 1000 msg/s are late now and then even when nothing else runs, and other work on the two cores
// adds to it: in one run of the suite 2 searches of 12 ended so. A search that found a peak is
// judged, whatever trials on its curve were held up. Every search runs with the default retries: a
// rate is good when most of its trials are.
const ATTEMPTS = 5;

/** Trials of the search whose generator the machine held up. */
function heldUpTrials(peak: PeakResult): number {
  return peak.curve.filter((point) => point.verdict === "generator-limited").length;
}

function describeSearch(peak: PeakResult): string {
  const found =
    peak.messagesPerSecond === null ? `no peak (${peak.criterion})` : `${peak.messagesPerSecond} msg/s`;
  const unloaded = peak.curve[0];
  const lateness = unloaded?.latenessP99Us?.toFixed(0);
  const heldUp = heldUpTrials(peak);
  const held = peak.generatorLimited ? `; generator-limited: ${peak.generatorLimited.reason}` : "";
  return `${found} after ${peak.trials} trials (${heldUp} with the generator held up), unloaded p99 ${unloaded?.latencyUs?.p99.toFixed(0)} µs (lateness p99 ${lateness} µs)${held}`;
}

/** A search's result with what every attempt found, for the failure message. */
type Searched = { peak: PeakResult; attempts: string[] };

async function searchOnLab(t: TestContext, protocol: Protocol): Promise<Searched> {
  const session = await builtinDriver.prepare(resolveNetworkSetup("host-to-guest", { lab }));
  const attempts: string[] = [];
  try {
    for (let attempt = 1; ; attempt++) {
      const began = Date.now();
      const { peak } = await runPeakTrial(session, traffic(protocol), { host: new LocalEndpoint() });
      attempts.push(
        `attempt ${attempt}: ${describeSearch(peak)} in ${((Date.now() - began) / 1000).toFixed(1)} s`,
      );
      t.diagnostic(attempts.at(-1)!);
      if (peak.criterion !== "generator-limited" || attempt === ATTEMPTS) return { peak, attempts };
    }
  } finally {
    await session.close();
  }
}

function assertNear({ peak, attempts }: Searched, expected: number): void {
  const found = peak.messagesPerSecond;
  assert.ok(found !== null, `no peak found: ${attempts.join("; ")}`);
  const error = found / expected - 1;
  assert.ok(
    Math.abs(error) <= 0.1,
    `peak ${found} msg/s is ${(error * 100).toFixed(1)} % off ${expected.toFixed(1)}: ${attempts.join("; ")}`,
  );
}

describe("peak search on a tbf-shaped lab link", { skip: !root && "needs root (netns lab)" }, () => {
  test("8 Mbit/s, UDP: the peak is the link's capacity", async (t) => {
    await setLinkOptions(lab, "g1", { shaping: { rateMbit: 8 } });
    const searched = await searchOnLab(t, "udp");
    assertNear(searched, capacity("udp", 8));
    const { peak } = searched;
    assert.equal(peak.curve[0]!.phase, "unloaded");
    // The search ends confirming a bound, or bisecting once a confirmation failed there.
    assert.ok(["confirm", "bisect"].includes(peak.curve.at(-1)!.phase), peak.curve.at(-1)!.phase);
    assert.ok(
      peak.curve.some((point) => point.phase === "confirm"),
      "a bound was confirmed",
    );
    assert.ok(peak.curve.every((point) => point.cpu !== null && point.cpu.hostSeconds > 0));
  });

  test("8 Mbit/s, TCP: the peak is the link's capacity", async (t) => {
    await setLinkOptions(lab, "g1", { shaping: { rateMbit: 8 } });
    assertNear(await searchOnLab(t, "tcp"), capacity("tcp", 8));
  });

  test("16 Mbit/s, TCP: the peak doubles", async (t) => {
    await setLinkOptions(lab, "g1", { shaping: { rateMbit: 16 } });
    assertNear(await searchOnLab(t, "tcp"), capacity("tcp", 16));
  });

  test("16 Mbit/s, UDP, through the CLI: stored, shown, and in --json as summary.peak", async (t) => {
    await setLinkOptions(lab, "g1", { shaping: { rateMbit: 16 } });
    const db = join(dir, "peak.db");
    const args = [
      "peak",
      ...["--lab", LAB, "--setup", "host-to-guest", "--protocol", "udp", "--size", String(SIZE)],
      ...["--duration", "2", "--warmup", "0.5", "--db", db, "--json"],
    ];
    let view: RunView | null = null;
    const attempts: string[] = [];
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const result = await runCli(args, { timeoutMs: 150_000 });
      assert.equal(result.code, 0, result.stderr);
      view = JSON.parse(result.stdout) as RunView;
      const peak = view.cells[0]!.summary.peak!;
      attempts.push(`attempt ${attempt}: ${describeSearch(peak)}`);
      t.diagnostic(attempts.at(-1)!);
      if (peak.criterion !== "generator-limited") break;
    }
    const cell = view!.cells[0]!;
    assert.equal(cell.traffic.rate, "peak");
    assert.equal(cell.trials.length, 1);
    const peak = cell.summary.peak!;
    assertNear({ peak, attempts }, capacity("udp", 16));
    assert.equal(peak.precision, 0.02);
    assert.ok(["latency", "loss", "delivered-rate"].includes(peak.criterion));
    assert.equal(peak.curve.length, peak.trials);
    assert.equal(cell.trials[0]!.peak!.messagesPerSecond, peak.messagesPerSecond);

    const shown = await runCli(["show", view!.id, "--db", db]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(
      shown.stdout,
      new RegExp(`peak host-to-guest builtin udp paced 1000/1000 @peak: ${peak.messagesPerSecond}`),
    );
    assert.match(shown.stdout, new RegExp(`stopped by ${peak.criterion}`));
  });
});

test("peak refuses bad input with exit code 2 before touching anything", async () => {
  const db = join(dir, "bad.db");
  const cases: Array<[string[], RegExp]> = [
    [["--precision", "200%"], /--precision: '200%' is not a precision from 0.5% to 50%/],
    [["--loss-goal", "lots"], /--loss-goal: 'lots' is not no-drop, partial-drop/],
    [["--latency-factor", "1"], /--latency-factor: '1' is not a factor above 1/],
    [["--protocol", "tcp,udp"], /peak searches one cell, these flags give 2/],
    [["--driver", "iperf3"], /driver iperf3|paced/],
  ];
  for (const [flags, message] of cases) {
    const result = await runCli(["peak", "--db", db, ...flags]);
    assert.equal(result.code, 2, `${flags.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
});
