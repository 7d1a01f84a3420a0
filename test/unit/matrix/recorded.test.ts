// What a matrix run records and compare reads back: acceptance thresholds and the fingerprint.

import assert from "node:assert/strict";
import { test } from "node:test";
import { checkFingerprint } from "../../../src/compare/fingerprint.js";
import { thresholdsFor } from "../../../src/compare/runs.js";
import {
  type EndpointFacts,
  fingerprintFacts,
  fingerprintHash,
  parseLscpu,
  parseOffloads,
} from "../../../src/run/fingerprint-parse.js";

test("compare thresholds: flags, then the candidate's stored acceptance, then the baseline's", () => {
  const base = { metadata: { acceptance: { noise: 0.05, alpha: 0.01, metrics: { latencyP99: 0.1 } } } };
  const cand = { metadata: { acceptance: { noise: 0.03 } } };
  assert.deepEqual(thresholdsFor(base, cand), { noise: 0.03, alpha: 0.01, metrics: { latencyP99: 0.1 } });
  assert.deepEqual(thresholdsFor(base, cand, { alpha: 0.05, noise: undefined }), {
    noise: 0.03,
    alpha: 0.05,
    metrics: { latencyP99: 0.1 },
  });
  assert.deepEqual(thresholdsFor({ metadata: {} }, { metadata: {} }), { metrics: {} });
});

const FACTS: EndpointFacts = {
  endpoint: "local",
  role: "host",
  kind: "local",
  hostname: "hv1",
  cpuModel: "Intel(R) Xeon(R) Gold 6338",
  cpus: 64,
  sockets: 2,
  coresPerSocket: 32,
  threadsPerCore: 1,
  numaNodes: 2,
  memoryBytes: 256 * 2 ** 30 - 3e6,
  kernel: "6.8.0 #1 SMP",
  cmdline: "ro quiet",
  governor: "performance",
  qemu: "QEMU emulator version 8.2.2",
  libvirt: null,
  nics: [
    { name: "ens1f0", driver: "ice", busInfo: "0000:17:00.0", speedMbps: 100000, mtu: 1500, offloads: {} },
    { name: "br0", driver: "bridge", busInfo: null, speedMbps: null, mtu: 1500, offloads: {} },
  ],
  sysctls: {},
  errors: [],
};

test("the fingerprint covers hardware (physical NICs only, memory in GiB), not software", () => {
  const facts = fingerprintFacts([FACTS]);
  assert.deepEqual(facts[0]!.nics, [{ driver: "ice", speedMbps: 100000 }]);
  assert.equal(facts[0]!.memoryGiB, 256);
  const same = fingerprintHash(
    fingerprintFacts([{ ...FACTS, kernel: "6.9.0", qemu: "9.0", memoryBytes: 256 * 2 ** 30 - 5e6 }]),
  );
  assert.equal(same, fingerprintHash(facts));
  assert.notEqual(
    fingerprintHash(fingerprintFacts([{ ...FACTS, governor: "powersave" }])),
    fingerprintHash(facts),
  );
});

test("a differing hash is explained by the hardware facts; software differences are listed apart", () => {
  const meta = (facts: EndpointFacts) => ({
    fingerprint: fingerprintHash(fingerprintFacts([facts])),
    fingerprintFacts: fingerprintFacts([facts]),
    software: { local: { kernel: facts.kernel } },
  });
  const check = checkFingerprint(meta(FACTS), meta({ ...FACTS, governor: "powersave", kernel: "6.9.0" }));
  assert.equal(check.matches, false);
  assert.deepEqual(check.differences, [
    { field: "hardware.0.governor", baseline: "performance", candidate: "powersave" },
  ]);
  assert.deepEqual(check.software, [
    { field: "software.local.kernel", baseline: "6.8.0 #1 SMP", candidate: "6.9.0" },
  ]);
});

test("parsers: lscpu -J and ethtool -k", () => {
  const lscpu = parseLscpu(
    '{"lscpu":[{"field":"Model name:","data":"AMD EPYC 7763"},{"field":"Socket(s):","data":"2"}]}',
  );
  assert.deepEqual(lscpu, { "Model name": "AMD EPYC 7763", "Socket(s)": "2" });
  const offloads = parseOffloads(
    "Features for eth0:\nrx-checksumming: on\ntcp-segmentation-offload: off [fixed]\n\ttx-tcp-segmentation: off [fixed]\n",
  );
  assert.deepEqual(offloads, {
    "rx-checksumming": "on",
    "tcp-segmentation-offload": "off",
    "tx-tcp-segmentation": "off",
  });
});
