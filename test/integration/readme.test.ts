// The README as a new user follows it, on the lab it names (`vnb`): its commands and its matrix
// example as written, and every example file planned. Lean: commands that would measure for
// minutes are run with their traffic shortened, nothing else changed.

import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "yaml";
import { DRIVERS } from "../../src/domain/traffic.js";
import { labDown } from "../../src/labs/netns-lab.js";
import { runCli } from "../helpers/cli.js";
import { labNamespacesLeft } from "../helpers/lab.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const readme = readFileSync(join(root, "README.md"), "utf8");
const dir = mkdtempSync(join(tmpdir(), "vnb-readme-"));
const db = join(dir, "readme.db");
const LAB = "vnb"; // the name the README's examples use

before(async () => {
  await labDown(LAB);
  const up = await runCli(["lab", "up"]);
  assert.equal(up.code, 0, up.stderr);
});

after(async () => {
  await labDown(LAB);
  assert.deepEqual(await labNamespacesLeft(LAB), []);
  rmSync(dir, { recursive: true, force: true });
});

/** The fenced blocks of one language in the README. */
function blocks(language: string): string[] {
  return [...readme.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, "g"))].map((m) => m[1]!);
}

const ok = async (args: string[]) => {
  const result = await runCli(args);
  assert.equal(result.code, 0, `vnetbench ${args.join(" ")}: ${result.stderr}`);
  return result;
};

test("run --help lists every driver the README names", async () => {
  const { stdout } = await ok(["run", "--help"]);
  for (const driver of DRIVERS) assert.match(stdout, new RegExp(`\\b${driver}\\b`), driver);
});

test("the README's lab, run, show, compare, report and export commands work as written", async () => {
  await ok(["lab", "status", "--name", LAB]);
  // `lab link g1 --mtu 9000 --rate-mbit 100`, on the default lab the README's hints name.
  const link = await ok(["lab", "link", "g1", "--mtu", "9000", "--rate-mbit", "100"]);
  assert.match(link.stdout, /shaped both ways/);
  await ok(["lab", "link", "g1", "--mtu", "1500", "--clear"]);
  await ok(["doctor", "--lab", LAB]);
  // The usage line's flags as written, with the traffic shortened (each later flag replaces one).
  const short = ["--duration", "0.2", "--warmup", "0", "--trials", "1"];
  await ok([
    "run",
    "--setup",
    "host-to-guest,guest-to-guest",
    "--protocol",
    "tcp,udp",
    "--pattern",
    "rr,paced",
    "--size",
    "64,1400",
    "--rate",
    "1000,10000",
    ...short,
    "--label",
    "candidate",
    "--lab",
    LAB,
    "--db",
    db,
  ]);
  await ok(["runs", "--db", db]);
  await ok(["show", "latest", "--json", "--db", db]);
  await ok(["compare", "latest", "latest", "--db", db]);
  await ok(["compare", "--label", "candidate", "candidate", "--db", db]);
  await ok(["report", "latest", "--vs", "latest", "-o", join(dir, "report.html"), "--db", db]);
  await ok(["export", "latest", "--format", "csv", "-o", join(dir, "run.csv"), "--db", db]);
  await ok(["export", "latest", "--format", "json", "--db", db]);
  await ok(["plan", "--schema"]);
});

test("the README's matrix example plans on the lab, and its guest options run as written", async () => {
  const [text] = blocks("yaml").filter((block) => block.includes("categories:"));
  assert.ok(text, "the README has a matrix example");
  const file = join(dir, "readme-matrix.yaml");
  writeFileSync(file, text);
  await ok(["plan", file]);
  // Its guest options (default, jumbo's steps, no-tso's NIC settings) with one short traffic option.
  const matrix = parse(text);
  const small = {
    endpoints: matrix.endpoints,
    categories: {
      network: ["host-to-guest"],
      cpu: ["none"],
      guest: matrix.categories.guest,
      hypervisor: ["default"],
      traffic: [{ name: "tcp-rr", protocol: "tcp", pattern: "rr", sizes: [64], duration: 0.3, warmup: 0 }],
    },
    trials: 1,
  };
  const smallFile = join(dir, "readme-guest.yaml");
  writeFileSync(smallFile, stringify(small));
  const run = await ok(["run", smallFile, "--json", "--db", db]);
  const view = JSON.parse(run.stdout);
  assert.deepEqual(
    view.cells.map((cell: { setup: { guest: string }; trials: { status: string }[] }) => [
      cell.setup.guest,
      cell.trials.map((trial) => trial.status),
    ]),
    [
      ["default", ["completed"]],
      ["jumbo", ["completed"]],
      ["no-tso", ["completed"]],
    ],
  );
});

test("every example file plans", async () => {
  const examples = readdirSync(join(root, "examples")).filter((name) => name.endsWith(".yaml"));
  assert.ok(examples.length >= 2);
  for (const name of examples) await ok(["plan", join(root, "examples", name), "--lab", LAB]);
});
