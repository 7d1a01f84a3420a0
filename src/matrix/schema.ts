// The matrix file's definition, once: validation (parse.ts) and the JSON Schema editors use
// (schema/matrix.schema.json, `vnetbench plan --schema`) both come from these zod schemas.

import { z } from "zod";
import { METRIC_NAMES } from "../compare/metrics.js";
import { DIRECTIONS } from "../domain/setup.js";
import { DRIVER_CHOICES, MAX_FLOWS, PATTERNS, PROTOCOLS } from "../domain/traffic.js";
import { GUEST_KINDS } from "../labs/qemu-lab.js";
import { MAX_MESSAGE_BYTES, parseByteSize } from "../plan/flags.js";
import { TRIAL_ORDERS } from "../plan/order.js";
import { NETWORK_SETUPS } from "../setups/network.js";

export const CATEGORIES = ["network", "cpu", "guest", "hypervisor", "traffic"] as const;
export type Category = (typeof CATEGORIES)[number];

const NAME = /^[A-Za-z][\w.+-]{0,63}$/;
const name = () =>
  z.string().regex(NAME, { error: "expected a name of letters, digits, _ . + - starting with a letter" });
// Unknown keys are reported with the fields that are allowed (yaml-issues.ts reads this form).
function strict<T extends z.core.$ZodLooseShape>(shape: T) {
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys" ? `(expected: ${Object.keys(shape).join(", ")})` : undefined,
  });
}
const describe = <T extends z.ZodType>(schema: T, text: string): T => schema.meta({ description: text });

// Each branch carries the message, since zod reports the branch that came closest.
const oneOf = <A extends z.ZodType, B extends z.ZodType>(
  error: string,
  a: (e: { error: string }) => A,
  b: (e: { error: string }) => B,
) => z.union([a({ error }), b({ error })], { error });
const cpuList = describe(
  oneOf(
    'expected a CPU list such as 0, "2-3" or "0,4-5"',
    (e) => z.int(e).min(0, e),
    (e) => z.string(e).regex(/^\d+(-\d+)?(,\d+(-\d+)?)*$/, e),
  ),
  'CPUs in the kernel\'s list notation: 0, "2-3", "0,4-5"',
);
const seconds = (max: number) => z.number({ error: "expected a number of seconds" }).min(0).max(max);
const size = oneOf(
  "expected a message size in bytes between 1 and 16777216 (e.g. 64, 1400, 16k or 1m); a udp driver refuses more than 65507",
  (e) =>
    z
      .int(e)
      .min(1, e)
      .max(16 * 1024 * 1024, e),
  (e) =>
    z
      .string(e)
      .regex(/^\d+[kKmM]?$/, e)
      .refine((text) => (parseByteSize(text) ?? 0) <= MAX_MESSAGE_BYTES, e),
);
const rate = oneOf(
  "expected a rate in messages/s (a number up to 10M, e.g. 1000 or 50k), max, or peak (a peak-throughput search)",
  (e) => z.number(e).positive(e).max(10e6, e),
  (e) => z.string(e).regex(/^(max|peak|\d+(\.\d+)?[kKmM]?)$/, e),
);
const ratio = oneOf(
  "expected a ratio in [0, 1) such as 0.02 or 2%",
  (e) => z.number(e).min(0, e).lt(1, e),
  (e) => z.string(e).regex(/^\d{1,2}(\.\d+)?%$/, e),
);

export const stepSchema = describe(
  strict({
    on: describe(name(), "the endpoint the command runs on (a lab node, an endpoints-file name, or local)"),
    run: describe(
      z.array(z.string(), { error: "expected a command as a list of arguments" }).min(1),
      "argv, no shell: [ip, link, set, eth0, mtu, '9000']",
    ),
    timeout: seconds(3600).optional(),
  }),
  "a command run on a named endpoint",
);

export const sysctlSchema = describe(
  strict({
    on: describe(name(), "the endpoint whose kernel setting it is"),
    name: describe(
      z.string().regex(/^[A-Za-z0-9_-]+([./][A-Za-z0-9_-]+)+$/, {
        error: "expected a sysctl name such as net.ipv4.tcp_congestion_control",
      }),
      "the sysctl, as `sysctl -n` names it",
    ),
    value: z.union([z.string().min(1), z.number()]),
  }),
  "a kernel setting: its value is read first, set on apply, and that read value restored on revert",
);

const optionCommon = {
  description: z.string().optional(),
  sysctl: describe(
    z.array(sysctlSchema).min(1).optional(),
    "kernel settings put in place before the apply commands; what was there before is restored after the revert commands",
  ),
  apply: describe(z.array(stepSchema).optional(), "commands that put the option in place, in order"),
  revert: describe(z.array(stepSchema).optional(), "commands that undo it, run before the next option"),
};

const selector = {
  on: describe(name().optional(), "the endpoint where the processes run (default: the host endpoint)"),
  generator: describe(z.literal(true).optional(), "the traffic generator's own processes on this host"),
  process: describe(
    z.string().min(1).optional(),
    "a regular expression matched against process names and command lines",
  ),
  pid: z.int().positive().optional(),
  qemu: describe(
    z.enum(["vcpus", "emulator"]).optional(),
    "the lab's qemu threads: its vCPU threads as QMP query-cpus-fast names them, or all its others",
  ),
  threads: describe(
    z.string().min(1).optional(),
    "only threads whose name matches, e.g. 'CPU \\d+/KVM' or '^vhost-'",
  ),
};

export const pinSchema = strict({ ...selector, cpus: cpuList });
export const irqSchema = strict({
  on: selector.on,
  irq: describe(
    z.union([z.int().min(0), z.string().min(1)]),
    "an IRQ number, or a regular expression matched against its /proc/interrupts description",
  ),
  cpus: cpuList,
});
export const numaSchema = strict({ ...selector, node: z.int().min(0) });

const networkObject = strict({
  name: z.enum(NETWORK_SETUPS),
  direction: z.enum(DIRECTIONS).optional(),
  ...optionCommon,
});
const cpuObject = strict({
  name: name(),
  pin: describe(
    z.array(pinSchema).min(1).optional(),
    "sched_setaffinity (taskset) of selected processes/threads",
  ),
  irqAffinity: describe(
    z.array(irqSchema).min(1).optional(),
    "/proc/irq/N/smp_affinity_list of selected IRQs, restored on revert",
  ),
  numa: describe(
    numaSchema.optional(),
    "CPUs and memory of selected processes on one NUMA node (numactl's migratepages)",
  ),
  ...optionCommon,
});
const qemuSettingsSchema = describe(
  strict({
    vhost: describe(
      z.boolean().optional(),
      "vhost-net for the tap (skipped, with the reason, where /dev/vhost-net is missing)",
    ),
    queues: describe(z.int().min(1).max(8).optional(), "virtio-net queue pairs (a multi_queue tap when > 1)"),
    cpus: z.int().min(1).max(8).optional(),
    memoryMb: z.int().min(128).max(16384).optional(),
    accel: describe(
      z.enum(["kvm", "tcg"]).optional(),
      "the accelerator (kvm is skipped where the CPU has no vmx/svm)",
    ),
    device: describe(
      z
        .record(z.string().regex(/^[\w-]+$/), z.union([z.string().regex(/^[\w.-]+$/), z.boolean(), z.int()]))
        .optional(),
      "virtio-net-pci properties, e.g. { mrg_rxbuf: off, event_idx: off, packed: on, tx: bh }",
    ),
  }),
  "qemu settings of the lab's guests: they are restarted when these change",
);
const hypervisorObject = strict({ name: name(), ...optionCommon, qemu: qemuSettingsSchema.optional() });
const guestObject = strict({
  name: name(),
  ...optionCommon,
  mtu: describe(z.int().min(68).max(65535).optional(), "the guests' network interface MTU"),
  offloads: describe(
    z.record(z.string().regex(/^[a-z][\w-]*$/), z.boolean()).optional(),
    "ethtool -K features of the guests' interface, e.g. { tso: false, gro: true }",
  ),
  channels: describe(
    z.int().min(1).max(64).optional(),
    "ethtool -L combined: the queues the guests' driver uses",
  ),
});

export const trafficSchema = strict({
  name: name(),
  protocol: z.enum(PROTOCOLS),
  pattern: z.enum(PATTERNS),
  sizes: describe(
    z.array(size).min(1),
    "request sizes in bytes (16k = 16384); responses the same unless responseSizes",
  ),
  responseSizes: z.array(size).min(1).optional(),
  rates: describe(
    z.array(rate).min(1).optional(),
    "offered loads for paced traffic and UDP streams (default 1000 / max); peak searches for the peak throughput",
  ),
  duration: describe(seconds(3600).min(0.1).optional(), "measured seconds per trial (default 5)"),
  warmup: describe(seconds(3600).optional(), "seconds before each measured window (default 1)"),
  flows: describe(
    z
      .array(z.number({ error: "expected a number of flows" }).int().min(1).max(MAX_FLOWS))
      .min(1)
      .optional(),
    `parallel flows per cell (iperf3 -P; default [1]), up to ${MAX_FLOWS}: per-flow and total figures`,
  ),
  ip: describe(
    z
      .array(z.union([z.literal(4), z.literal(6)], { error: "expected IP version 4 or 6" }))
      .min(1)
      .optional(),
    "IP versions each cell runs over (default [4]; [4, 6] for both)",
  ),
  driver: describe(
    z.enum(DRIVER_CHOICES).optional(),
    "traffic driver (default builtin); auto sends paced traffic through sockperf where it is installed",
  ),
  description: z.string().optional(),
});

// Rule values are option names; a network may be named with its direction (`guest-to-guest:bidirectional`).
const ruleName = () =>
  z.string().regex(/^[A-Za-z][\w.+-]{0,63}(:[a-z-]+)?$/, { error: "expected an option name" });
const nameOrList = z.union([ruleName(), z.array(ruleName()).min(1)]);
export const ruleSchema = describe(
  strict({
    network: nameOrList.optional(),
    cpu: nameOrList.optional(),
    guest: nameOrList.optional(),
    hypervisor: nameOrList.optional(),
    traffic: nameOrList.optional(),
  }),
  "combinations whose option in every named category is one of those listed",
);

export const matrixSchema = strict({
  $schema: z.string().optional(),
  version: z.literal(1).optional(),
  name: z.string().optional(),
  description: z.string().optional(),
  endpoints: describe(
    z
      .union([
        strict({ lab: describe(name(), "an existing netns lab (vnetbench lab up --name NAME)") }),
        strict({
          guests: describe(z.enum(GUEST_KINDS), "a throw-away lab whose guests are netns or qemu VMs"),
        }),
        strict({ file: describe(z.string().min(1), "an endpoints file, relative to this file") }),
        z.array(z.record(z.string(), z.unknown())).min(1),
      ])
      .optional(),
    "where traffic runs: {lab: NAME}, {guests: qemu}, {file: endpoints.yaml}, or a list as in an endpoints file (default: a throw-away netns lab as root)",
  ),
  categories: strict({
    network: z.array(z.union([z.enum(NETWORK_SETUPS), networkObject])).min(1),
    cpu: z
      .array(z.union([name(), cpuObject]))
      .min(1)
      .optional(),
    guest: z
      .array(z.union([name(), guestObject]))
      .min(1)
      .optional(),
    hypervisor: z
      .array(z.union([name(), hypervisorObject]))
      .min(1)
      .optional(),
    traffic: z.array(trafficSchema).min(1),
  }),
  include: z.array(ruleSchema).optional(),
  exclude: z.array(ruleSchema).optional(),
  trials: z.int().min(1).max(1000).optional(),
  order: z.enum(TRIAL_ORDERS).optional(),
  seed: describe(
    z
      .int()
      .min(0)
      .max(2 ** 31)
      .optional(),
    "seed of the shuffled order (default: random, recorded)",
  ),
  pauses: z
    .strictObject({
      betweenTrials: describe(seconds(3600).optional(), "seconds of idle before every trial but the first"),
      betweenCells: describe(
        seconds(3600).optional(),
        "seconds of idle when the next trial is of another cell",
      ),
    })
    .optional(),
  acceptance: describe(
    z
      .strictObject({
        noise: ratio.optional(),
        alpha: ratio.optional(),
        metrics: describe(
          z
            .partialRecord(
              z.enum(METRIC_NAMES as [string, ...string[]]),
              z.union([z.number().min(0), ratio, z.literal(false)]),
            )
            .optional(),
          "per metric: a noise threshold (the metric is then judged) or false (reported, not judged); " +
            "judged by default: latencyP50, latencyP99, messagesPerSecond (throughputMbps for streams), " +
            "peakMessagesPerSecond, serviceDemandOutsideGenerator",
        ),
        inconclusive: describe(
          z.enum(["pass", "fail"]).optional(),
          "fail: an inconclusive comparison exits 4, as compare --strict (default pass)",
        ),
      })
      .optional(),
    "thresholds `vnetbench compare` uses by default (flags still override)",
  ),
});

export type MatrixInput = z.infer<typeof matrixSchema>;
export type StepInput = z.infer<typeof stepSchema>;
export type SysctlInput = z.infer<typeof sysctlSchema>;
export type PinInput = z.infer<typeof pinSchema>;
export type IrqInput = z.infer<typeof irqSchema>;
export type NumaInput = z.infer<typeof numaSchema>;
export type TrafficInput = z.infer<typeof trafficSchema>;
export type QemuSettingsInput = z.infer<typeof qemuSettingsSchema>;
export type RuleInput = z.infer<typeof ruleSchema>;

/** The JSON Schema of the matrix file, for editors (yaml-language-server) and other tools. */
export function matrixJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(matrixSchema, { io: "input", unrepresentable: "any" }),
    $id: "https://vnetbench.dev/schema/matrix.schema.json",
    title: "vnetbench matrix",
  };
}
