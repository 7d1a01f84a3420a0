// Every bad matrix file of the corpus gives an error naming file:line:column, the field, and what
// was expected.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { whyUnsupported } from "../../../src/drivers/registry.js";
import { InputError } from "../../../src/errors.js";
import { parseMatrix } from "../../../src/matrix/parse.js";

const dir = fileURLToPath(new URL("../../fixtures/matrix/bad/", import.meta.url));

/** file → [line, column, field, a phrase of the expected form]. */
const EXPECTED: Record<string, [number, number, string, string]> = {
  "unknown-category.yaml": [
    3,
    3,
    "categories.memory",
    "unknown field (expected: network, cpu, guest, hypervisor, traffic)",
  ],
  "unknown-network.yaml": [2, 23, "categories.network[1]", "expected one of loopback, host-to-guest"],
  "unknown-field.yaml": [
    8,
    7,
    "categories.traffic[0].size",
    "unknown field (expected: name, protocol, pattern, sizes",
  ],
  "wrong-type-trials.yaml": [5, 9, "trials", 'expected a number, got "three"'],
  "bad-size.yaml": [
    4,
    59,
    "categories.traffic[0].sizes[1]",
    "expected a message size in bytes between 1 and 16777216",
  ],
  "bad-protocol.yaml": [
    4,
    29,
    "categories.traffic[0].protocol",
    'expected one of tcp, udp, icmp, got "sctp"',
  ],
  "missing-traffic.yaml": [2, 3, "categories", "missing field traffic"],
  "step-unknown-endpoint.yaml": [
    6,
    17,
    "categories.guest[0].apply[0].on",
    'unknown endpoint "guest1" (expected one of host1, g1',
  ],
  "step-not-argv.yaml": [
    6,
    29,
    "categories.hypervisor[0].apply[0].run",
    "expected a command as a list of arguments",
  ],
  "empty-product.yaml": [6, 3, "exclude", "expected at least one cell"],
  "rule-unknown-option.yaml": [
    7,
    19,
    "include[0].cpu[1]",
    'unknown cpu option "pinned" (expected one of none)',
  ],
  "duplicate-option.yaml": [5, 7, "categories.traffic[1]", 'option "rr" is already entry 1'],
  "rates-not-applicable.yaml": [
    4,
    67,
    "categories.traffic[0].rates",
    "expected no rates: tcp rr sets its own pace",
  ],
  "impossible-pattern.yaml": [
    4,
    44,
    "categories.traffic[0].pattern",
    "crr (connect/request/response) exists for tcp only",
  ],
  "driver-unsupported.yaml": [4, 7, "categories.traffic[0]", "icmp is the ping driver's"],
  "pin-two-selectors.yaml": [
    6,
    11,
    "categories.cpu[0].pin[0]",
    "expected exactly one of generator: true, process, pid or qemu",
  ],
  "bad-cpu-list.yaml": [6, 36, "categories.cpu[0].pin[0].cpus", "expected a CPU list"],
  "bad-order.yaml": [5, 8, "order", "expected one of sequential, shuffled, interleaved"],
  "bad-acceptance.yaml": [6, 10, "acceptance.noise", "expected a ratio in [0, 1)"],
  "bad-regex.yaml": [6, 18, "categories.cpu[0].irqAffinity[0].irq", "expected a regular expression"],
  "yaml-syntax.yaml": [3, 3, "(yaml)", "Flow sequence"],
  "not-a-mapping.yaml": [1, 1, "(document)", "expected a mapping with `categories:`"],
  "inline-endpoint-bad-role.yaml": [
    2,
    37,
    "endpoints[0].role",
    'expected one of host, guest, ext, got "hypervisor"',
  ],
  "bad-lab-name.yaml": [1, 19, "endpoints.lab", "expected 1–9 lowercase letters"],
  "paced-max.yaml": [4, 73, "categories.traffic[0].rates", "expected numeric rates"],
};

const deps = { unsupported: whyUnsupported, readText: (path: string) => readFileSync(path, "utf8") };

test("the corpus holds at least 15 bad files, each listed here", async () => {
  const { readdirSync } = await import("node:fs");
  const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));
  assert.ok(files.length >= 15);
  assert.deepEqual(files.sort(), Object.keys(EXPECTED).sort());
});

for (const [name, [line, column, field, phrase]] of Object.entries(EXPECTED)) {
  test(`bad matrix ${name}: ${field} at ${line}:${column}`, () => {
    const file = `${dir}${name}`;
    assert.throws(
      () => parseMatrix(readFileSync(file, "utf8"), file, deps),
      (error: unknown) => {
        assert.ok(error instanceof InputError, "an InputError (exit code 2)");
        const first = error.message.split("\n")[0]!;
        assert.ok(first.startsWith(`${file}:${line}:${column}: ${field}: `), first);
        assert.ok(first.includes(phrase), `${first}\n  should include: ${phrase}`);
        return true;
      },
    );
  });
}
