import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareRunViews } from "../../../src/compare/runs.js";
import { escapeHtml, htmlTable, reportHtml } from "../../../src/report/html.js";
import { cpuSummary, HOST, makeRun, spread } from "./run-fixture.js";

const generator = { version: "0.0.0-test", at: "2026-01-02T03:04:05.000Z" };

const cells = (factor: number, cpu: boolean) => [
  {
    trials: spread(10, 50 * factor).map((t) => ({
      ...t,
      ...(cpu ? { cpu: cpuSummary(0.5), serviceDemand: { usPerTransaction: 25, cyclesPerUnit: null } } : {}),
    })),
  },
  { traffic: { pattern: "paced" as const, rate: 1000 }, trials: spread(10, 20) },
  { traffic: { pattern: "paced" as const, rate: 8000 }, trials: spread(10, 35) },
];

describe("escapeHtml and htmlTable", () => {
  it("escapes markup and quotes", () => {
    assert.equal(
      escapeHtml(`<a href="x">'&'</a>`),
      "&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;",
    );
    assert.equal(
      htmlTable(["a", "b"], [["<x>", { html: "<b>1</b>", className: "bad" }]]),
      '<table data-text-columns="1"><thead><tr><th>a</th><th>b</th></tr></thead><tbody>\n<tr><td>&#60;x&#62;</td><td class="bad"><b>1</b></td></tr>\n</tbody></table>',
    );
  });
});

describe("reportHtml", () => {
  it("is one self-contained document: no script, stylesheet link or remote reference", async () => {
    const html = await reportHtml({ run: makeRun("cand", cells(1, false)), generator });
    assert.match(html, /^<!DOCTYPE html>/);
    assert.doesNotMatch(html, /<script|<link|<img|<iframe|\bsrc=/i);
    // The only URLs are SVG namespace names, which browsers never fetch.
    const urls = [...html.matchAll(/https?:\/\/[^\s"')]+/g)].map((m) => m[0]);
    assert.deepEqual([...new Set(urls)].sort(), [
      "http://www.w3.org/1999/xlink",
      "http://www.w3.org/2000/svg",
    ]);
  });

  it("holds the run, fingerprint, matrix, results, latency plots and trials; CPU only when measured", async () => {
    const html = await reportHtml({ run: makeRun("cand", cells(1, false)), generator });
    for (const id of ["run", "matrix", "results", "plots", "trials"])
      assert.match(html, new RegExp(`<section id="${id}">`));
    assert.match(html, /<h3>Fingerprint<\/h3>[\s\S]*<dt>cpuModel<\/dt><dd>Test CPU<\/dd>/);
    assert.equal(
      (html.match(/<figure class="plot"><svg/g) ?? []).length,
      3,
      "percentiles, CDF, latency-load",
    );
    assert.doesNotMatch(html, /<h3>CPU<\/h3>|Service demand/);
    assert.doesNotMatch(html, /id="comparison"/);

    const withCpu = await reportHtml({ run: makeRun("cand", cells(1, true)), generator });
    assert.match(withCpu, /<h3>CPU<\/h3>/);
    assert.equal(
      (withCpu.match(/<figure class="plot"><svg/g) ?? []).length,
      6,
      "+ CPU by category, by process, service demand",
    );
  });

  it("with a baseline: the verdict banner, the deltas plot and every metric's row", async () => {
    const baseline = makeRun("base", cells(1, false));
    const run = makeRun("cand", cells(1.1, false));
    const html = await reportHtml({ run, comparison: compareRunViews(baseline, run), generator });
    assert.match(
      html,
      /<p class="banner bad">Regression: [1-9]\d* judged metrics? regressed \([1-9]\d* regression/,
    );
    assert.match(html, /Change of medians, candidate vs baseline/);
    assert.match(html, /<td class="verdict regression">regression<\/td>/);
    assert.equal((html.match(/<figure class="plot"><svg/g) ?? []).length, 4);
  });

  it("puts an amber inconclusive banner, with the trials needed, when a judged metric is undecided", async () => {
    const baseline = makeRun("base", [{ trials: spread(3, 50) }]);
    const run = makeRun("cand", [{ trials: spread(3, 50 * 1.022) }]);
    const html = await reportHtml({ run, comparison: compareRunViews(baseline, run), generator });
    assert.match(
      html,
      /<p class="banner unsure">Inconclusive: \d+ judged metrics? could not be decided; about \d+ trials a side/,
    );
    assert.match(html, /\.banner\.unsure \{ background: #fff3cd/);
  });

  it("puts the verdict first, shows facts as tables and the matrix as its YAML, no JSON text", async () => {
    const metadata = {
      ...HOST,
      matrix: {
        file: "m.yaml",
        sha256: "abc",
        text: "categories:\n  network: [loopback]\n",
        order: "shuffled",
        seed: 7,
      },
      endpointFacts: [
        {
          endpoint: "host1",
          role: "host",
          nics: [{ name: "eth0", driver: "virtio_net" }],
          sysctls: { "net.core.rmem_max": 212992 },
        },
        { endpoint: "g1", role: "guest", nics: [{ name: "eth0", driver: "veth" }] },
      ],
      software: { host1: { kernel: "6.1", qemu: null } },
    };
    const baseline = makeRun("base", cells(1, false), metadata);
    const run = makeRun("cand", cells(1.1, false), metadata);
    const html = await reportHtml({ run, comparison: compareRunViews(baseline, run), generator });
    const at = (id: string) => html.indexOf(`<section id="${id}">`);
    assert.ok(at("comparison") < at("results") && at("results") < at("run"), "verdict, results, then facts");
    assert.match(html, /<pre class="yaml">categories:\n {2}network: \[loopback\]<\/pre>/);
    // Per-endpoint facts: a column per endpoint, nested names dotted.
    assert.match(html, /<th>endpointFacts<\/th><th>host1<\/th><th>g1<\/th>/);
    assert.match(
      html,
      /<td class="text">nics\.eth0\.driver<\/td><td class="text">virtio_net<\/td><td class="text">veth<\/td>/,
    );
    assert.match(
      html,
      /<td class="text">sysctls\.net\.core\.rmem_max<\/td><td class="text">212992<\/td><td class="text">-<\/td>/,
    );
    const text = html.replace(/<svg[\s\S]*?<\/svg>/g, "");
    assert.doesNotMatch(text, /\{&#34;|\[\{|&#34;:/, "no JSON text outside the plots");
  });

  it("CPU: one labelled per-trial definition; columns the same in every cell said once, not shown", async () => {
    const quiet = { ...cpuSummary(2), netTxSoftirqs: 0 };
    const run = makeRun("cand", [
      {
        trials: [1.8, 1.9, 2.1].map((latencyUs) => ({
          latencyUs,
          cpu: { ...quiet, hostSeconds: latencyUs },
        })),
      },
    ]);
    const html = await reportHtml({ run, generator });
    const table = html.slice(
      html.indexOf("<h3>CPU</h3>"),
      html.indexOf("</ul>", html.indexOf("<h3>CPU</h3>")),
    );
    assert.match(table, /<th>host CPU-s per trial \(median\)<\/th>/);
    // The median of 1.8, 1.9 and 2.1 CPU-seconds, not their sum.
    assert.match(table, /<td>1\.90<\/td>/);
    assert.doesNotMatch(table, /<th>NET_TX<\/th>|<th>MHz<\/th>/);
    assert.match(table, /<th>NET_RX<\/th>/);
    assert.match(table, /<li>NET_TX: 0 in every cell — no transmit softirq ran/);
    assert.match(table, /<li>MHz: not measured in any cell — perf not available<\/li>/);
  });

  it("keeps each plot's SVG ids apart", async () => {
    const html = await reportHtml({ run: makeRun("cand", cells(1, true)), generator });
    const ids = [...html.matchAll(/\bid="(plot[^"]+)"/g)].map((m) => m[1]);
    assert.equal(new Set(ids).size, ids.length);
  });
});
