// A corpus of hostile input — shell metacharacters, path separators, newlines, terminal escapes,
// very long strings, bytes that are not UTF-8, YAML alias bombs — in CLI flags, endpoints files and
// matrix files: each is refused with a clear one-line message (exit 2), nothing is stored, no lab
// is created, and no command is run through a shell.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import { runCli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "vnb-hostile-"));
after(() => rmSync(dir, { recursive: true, force: true }));
// A command a shell would run if it ever saw these strings: its mark must never appear.
const MARK = join(dir, "pwned");
const INJECT = `;touch ${MARK}`;
const LONG = "a".repeat(5000);

function file(name: string, text: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const endpoints = (entry: string) =>
  `endpoints:\n  - ${entry}\n  - { name: g1, kind: local, role: guest, address: 127.0.0.1 }\n`;
const matrix = (categories: string) =>
  `categories:\n${categories}\n  traffic:\n    - { name: rr, protocol: tcp, pattern: rr, sizes: [64], duration: 0.2, warmup: 0 }\n`;
const NET = "  network: [loopback]";

const CASES: Array<[string, string[], RegExp?]> = [
  // flags
  ["label with a newline", ["run", "--label", "a\nb"], /--label: control character U\+000A/],
  [
    "tester with a terminal escape",
    ["run", "--tester", "x\u001b[31m"],
    /--tester: control character U\+001B/,
  ],
  ["label 5000 characters long", ["run", "--label", LONG], /--label: 5000 characters is too long/],
  ["label that was not UTF-8", ["run", "--label", "caf\uFFFD"], /--label: the value is not valid UTF-8/],
  ["lab name with path separators", ["run", "--lab", "../../etc"], /lab name "\.\.\/\.\.\/etc"/],
  ["lab name with a command", ["run", "--lab", `vnb${INJECT}`], /lab name/],
  ["lab name $(...)", ["run", "--lab", "$(id)"], /lab name/],
  ["lab name very long", ["run", "--lab", LONG], /lab name/],
  ["lab up name with a slash", ["lab", "up", "--name", "a/b"], /lab name/],
  ["lab up name with a space", ["lab", "up", "--name", "a b"], /lab name/],
  ["lab down name with ;", ["lab", "down", "--name", `vnb${INJECT}`], /lab name/],
  ["lab status name with backquotes", ["lab", "status", "--name", "`id`"], /lab name/],
  ["setup with ;", ["run", "--setup", `loopback${INJECT}`], /unknown network setup/],
  ["setup with ../", ["run", "--setup", "../loopback"], /unknown network setup/],
  ["protocol with |", ["run", "--protocol", "tcp|udp"], /--protocol/],
  ["pattern with &&", ["run", "--pattern", "rr&&id"], /--pattern/],
  ["size with $(...)", ["run", "--size", "64$(id)"], /--size/],
  ["negative size", ["run", "--size", "-1"], /--size|unknown option|argument/],
  ["size 1e99", ["run", "--size", "1e99"], /--size/],
  ["rate NaN", ["run", "--rate", "NaN"], /--rate/],
  ["duration Infinity", ["run", "--duration", "Infinity"], /--duration/],
  ["trials with ;", ["run", "--trials", "1;2"], /--trials/],
  ["driver with a newline", ["run", "--driver", "builtin\nnetperf"], /--driver/],
  ["direction with ../", ["run", "--direction", "one-way,../x"], /--direction/],
  ["agent address with ;", ["agent", "--listen", `0.0.0.0${INJECT}`], /--listen/],
  ["agent port with ;", ["agent", "--port", `80${INJECT}`], /--port/],
  [
    "endpoints file missing, name with a newline",
    ["run", "--endpoints", join(dir, "no\nfile.yaml")],
    /cannot read it/,
  ],
  // endpoints files
  [
    "endpoint name with ;",
    [
      "run",
      "--endpoints",
      file("e1.yaml", endpoints(`{ name: "hv1${INJECT}", kind: local, role: host, address: 127.0.0.1 }`)),
      "--setup",
      "host-to-guest",
    ],
    /endpoints\[0\]\.name/,
  ],
  [
    "endpoint name with /",
    [
      "run",
      "--endpoints",
      file("e2.yaml", endpoints(`{ name: "a/b", kind: local, role: host, address: 127.0.0.1 }`)),
      "--setup",
      "host-to-guest",
    ],
    /endpoints\[0\]\.name/,
  ],
  [
    "endpoint name with a newline",
    [
      "run",
      "--endpoints",
      file("e3.yaml", endpoints(`{ name: "a\\nb", kind: local, role: host, address: 127.0.0.1 }`)),
      "--setup",
      "host-to-guest",
    ],
    /endpoints\[0\]\.name/,
  ],
  [
    "endpoint name 5000 long",
    [
      "run",
      "--endpoints",
      file("e4.yaml", endpoints(`{ name: ${LONG}, kind: local, role: host, address: 127.0.0.1 }`)),
      "--setup",
      "host-to-guest",
    ],
    /endpoints\[0\]\.name/,
  ],
  [
    "ssh target that is an option",
    [
      "run",
      "--endpoints",
      file(
        "e5.yaml",
        endpoints(
          `{ name: hv1, kind: ssh, role: host, ssh: "-oProxyCommand=touch ${MARK}", address: 127.0.0.1 }`,
        ),
      ),
      "--setup",
      "host-to-guest",
    ],
    /endpoints\[0\]\.ssh/,
  ],
  [
    "ssh target with ;",
    [
      "run",
      "--endpoints",
      file(
        "e6.yaml",
        endpoints(`{ name: hv1, kind: ssh, role: host, ssh: "root@h${INJECT}", address: 127.0.0.1 }`),
      ),
      "--setup",
      "host-to-guest",
    ],
    /endpoints\[0\]\.ssh/,
  ],
  [
    "address with ;",
    [
      "run",
      "--endpoints",
      file("e7.yaml", endpoints(`{ name: hv1, kind: local, role: host, address: "1.2.3.4${INJECT}" }`)),
      "--setup",
      "host-to-guest",
    ],
    /endpoints\[0\]\.address/,
  ],
  [
    "endpoint name not UTF-8",
    [
      "run",
      "--endpoints",
      file(
        "e8.yaml",
        Buffer.concat([
          Buffer.from('endpoints:\n  - { name: "h'),
          Buffer.from([0xff, 0xfe]),
          Buffer.from('", kind: local, role: host, address: 127.0.0.1 }\n'),
        ]),
      ),
      "--setup",
      "host-to-guest",
    ],
    /endpoints\[0\]\.name/,
  ],
  [
    "unknown endpoint kind",
    [
      "run",
      "--endpoints",
      file("e9.yaml", endpoints(`{ name: hv1, kind: shell, role: host, address: 127.0.0.1 }`)),
      "--setup",
      "host-to-guest",
    ],
    /kind/,
  ],
  [
    "endpoints alias bomb",
    [
      "run",
      "--endpoints",
      file(
        "e10.yaml",
        `a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nendpoints: []\n`,
      ),
      "--setup",
      "host-to-guest",
    ],
    /alias count/,
  ],
  // matrix files
  [
    "matrix network name with ;",
    ["run", file("m1.yaml", matrix(`  network: ["loopback${INJECT}"]`))],
    /network/,
  ],
  [
    "matrix cpu option name with a newline",
    [
      "run",
      file("m2.yaml", matrix(`${NET}\n  cpu: [{ name: "a\\nb", pin: [{ generator: true, cpus: 0 }] }]`)),
    ],
    /name/,
  ],
  [
    "matrix option name with /",
    ["run", file("m3.yaml", matrix(`${NET}\n  guest: [{ name: "../x", apply: [], revert: [] }]`))],
    /name/,
  ],
  [
    "matrix step given as a shell string",
    [
      "run",
      file(
        "m4.yaml",
        matrix(
          `${NET}\n  hypervisor: [{ name: hv, apply: [{ on: local, run: "touch ${MARK}" }], revert: [] }]`,
        ),
      ),
    ],
    /run/,
  ],
  [
    "matrix step on an endpoint with ;",
    [
      "run",
      file(
        "m5.yaml",
        matrix(
          `${NET}\n  hypervisor: [{ name: hv, apply: [{ on: "local${INJECT}", run: [true] }], revert: [] }]`,
        ),
      ),
    ],
    /on|endpoint/,
  ],
  [
    "matrix cpus with ;",
    [
      "run",
      file("m6.yaml", matrix(`${NET}\n  cpu: [{ name: p, pin: [{ generator: true, cpus: "0${INJECT}" }] }]`)),
    ],
    /cpus/,
  ],
  ["matrix lab name with ../", ["run", file("m7.yaml", `endpoints: { lab: "../x" }\n${matrix(NET)}`)], /lab/],
  [
    "matrix not UTF-8",
    [
      "run",
      file(
        "m8.yaml",
        Buffer.concat([
          Buffer.from(matrix(`${NET}\n  guest: [{ name: "g`)),
          Buffer.from([0xc3, 0x28]),
          Buffer.from('", apply: [], revert: [] }]\n'),
        ]),
      ),
    ],
    /name|UTF|expected/,
  ],
  [
    "matrix option name 5000 long",
    ["run", file("m9.yaml", matrix(`${NET}\n  guest: [{ name: ${LONG}, apply: [], revert: [] }]`))],
    /name/,
  ],
  [
    "matrix alias bomb",
    [
      "plan",
      file(
        "m10.yaml",
        `a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n${matrix(NET)}`,
      ),
    ],
    /alias count/,
  ],
  [
    "matrix size with ;",
    [
      "run",
      file(
        "m11.yaml",
        `categories:\n${NET}\n  traffic:\n    - { name: rr, protocol: tcp, pattern: rr, sizes: ["64${INJECT}"] }\n`,
      ),
    ],
    /sizes/,
  ],
];

function namespaces(): string {
  return execFileSync("ip", ["netns", "list"], { encoding: "utf8" });
}

function runsIn(db: string): number {
  if (!existsSync(db)) return 0;
  const reader = new Database(db, { readonly: true });
  try {
    return (reader.prepare("SELECT COUNT(*) FROM runs").pluck().get() as number) ?? 0;
  } catch {
    return 0; // no schema: nothing stored
  } finally {
    reader.close();
  }
}

test(`${CASES.length} hostile inputs: each refused with a clear message, nothing stored or changed`, {
  timeout: 600_000,
}, async () => {
  assert.ok(CASES.length >= 40);
  const before = process.getuid?.() === 0 ? namespaces() : "";
  const answers: string[] = [];
  for (const [name, args, expected] of CASES) {
    const db = join(dir, `${answers.length}.db`);
    const takesDb = args[0] === "run" || args[0] === "plan" ? ["--db", db] : [];
    const result = await runCli([...args, ...(args[0] === "run" ? takesDb : [])], {
      cwd: dir,
      timeoutMs: 60_000,
    });
    const lines = result.stderr.trim().split("\n");
    answers.push(`${name}: exit ${result.code}: ${lines[0]!.slice(0, 160)}`);
    assert.equal(result.code, 2, `${name}: ${result.stderr}`);
    assert.match(lines[0]!, /^(vnetbench: bad input: |error: )/, `${name}: one clear line: ${result.stderr}`);
    assert.doesNotMatch(result.stderr, /^\s+at /m, `${name}: no stack trace`);
    if (expected) assert.match(result.stderr, expected, name);
    assert.equal(runsIn(db), 0, `${name}: nothing stored`);
    assert.ok(!existsSync(MARK), `${name}: no shell ran it`);
  }
  if (process.getuid?.() === 0) assert.equal(namespaces(), before, "no namespace created or removed");
  console.log(answers.join("\n"));
});
