// Reads a matrix file's text into a Matrix, checking everything that can be checked before a run:
// types, names, cross-references (steps on unknown endpoints, rules naming unknown options),
// traffic a driver cannot do, and an empty product. Every error names file:line:column and field.

import { createHash } from "node:crypto";
import { dirname, resolve } from "node:path";
import { isMap, isSeq } from "yaml";
import type { Thresholds } from "../compare/compare.js";
import type { MetricName } from "../compare/metrics.js";
import type { DriverName, Traffic } from "../domain/traffic.js";
import { type EndpointSpec, parseEndpointsFile } from "../endpoints/endpoints-file.js";
import { onOff } from "../guests/settings.js";
import { LAB_NODES, validateLabName } from "../labs/topology.js";
import { impossible, parseByteSize, parseRates, trafficCombinations } from "../plan/flags.js";
import { normalizeCpuList } from "../setups/cpu-list.js";
import { type PathKey, show, YamlIssues, yamlToJs } from "../util/yaml-issues.js";
import { expandMatrix } from "./expand.js";
import {
  type CpuOption,
  DEFAULT_TRIALS,
  type GuestOption,
  type HypervisorOption,
  type Matrix,
  type MatrixEndpoints,
  type NetworkOption,
  type OptionBase,
  type ProcessSelector,
  type Rule,
  type Step,
  type SysctlSetting,
  type TrafficOption,
} from "./matrix.js";
import {
  type MatrixInput,
  matrixSchema,
  type QemuSettingsInput,
  type StepInput,
  type SysctlInput,
  type TrafficInput,
} from "./schema.js";

export interface ParseDependencies {
  /** Why a driver cannot do this traffic, or null (drivers/registry's whyUnsupported). */
  unsupported(traffic: Traffic): string | null;
  /** The driver `driver: auto` stands for on this host (drivers/registry's autoDriver). */
  autoDriver?(traffic: Traffic): DriverName;
  /** Reads a file the matrix refers to (its endpoints file). */
  readText(path: string): string;
}

/** The endpoint every matrix can name: the machine vnetbench runs on. */
export const LOCAL_ENDPOINT = "local";

export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** Parses and validates a matrix file's text; `file` names it in messages and anchors relative paths. */
export function parseMatrix(text: string, file: string, deps: ParseDependencies): Matrix {
  const yaml = new YamlIssues(file, text);
  yaml.throwIfAny();
  if (!isMap(yaml.doc.contents)) {
    yaml.fail([], "expected a mapping with `categories:` (network, cpu, guest, hypervisor, traffic)");
  }
  const data = yamlToJs(yaml.doc, file);
  const parsed = matrixSchema.safeParse(data);
  if (!parsed.success) {
    yaml.addZodIssues(parsed.error.issues, data);
    yaml.throwIfAny();
  }
  const input = parsed.data!;
  const endpoints = readEndpoints(input, yaml, text, file, deps);
  const names = endpointNames(endpoints);
  const checker = new Checker(yaml, names);

  const cats = input.categories;
  const base: PathKey[] = ["categories"];
  const network = uniqueBy(
    cats.network.map((entry, i): NetworkOption => {
      const option = typeof entry === "string" ? { name: entry } : entry;
      const path = [...base, "network", i];
      return {
        name: option.name,
        direction: option.direction ?? "one-way",
        description: option.description,
        ...checker.steps(option, path),
      };
    }),
    (option) => `${option.name}:${option.direction}`,
    (i) => [...base, "network", i],
    yaml,
  );
  const cpu = uniqueBy(
    (cats.cpu ?? ["none"]).map((entry, i): CpuOption => {
      const path = [...base, "cpu", i];
      if (typeof entry === "string") return { name: entry, apply: [], revert: [], pin: [], irqAffinity: [] };
      return {
        name: entry.name,
        description: entry.description,
        ...checker.steps(entry, path),
        pin: (entry.pin ?? []).map((pin, j) => ({
          ...checker.selector(pin, [...path, "pin", j], true),
          cpus: normalizeCpuList(String(pin.cpus)),
        })),
        irqAffinity: (entry.irqAffinity ?? []).map((irq, j) => {
          checker.endpoint(irq.on, [...path, "irqAffinity", j, "on"]);
          if (typeof irq.irq === "string") checker.pattern(irq.irq, [...path, "irqAffinity", j, "irq"]);
          return { on: irq.on, irq: irq.irq, cpus: normalizeCpuList(String(irq.cpus)) };
        }),
        numa: entry.numa && {
          ...checker.selector(entry.numa, [...path, "numa"], false),
          node: entry.numa.node,
        },
      };
    }),
    (option) => option.name,
    (i) => [...base, "cpu", i],
    yaml,
  );
  // Guest and hypervisor options: steps and sysctls, plus what `extra` takes of their own fields.
  const plain = <T extends OptionBase>(
    category: "guest" | "hypervisor",
    extra: (entry: object) => Partial<T>,
  ) =>
    uniqueBy(
      (cats[category] ?? ["default"]).map(
        (entry, i): T =>
          (typeof entry === "string"
            ? { name: entry, apply: [], revert: [] }
            : {
                name: entry.name,
                description: entry.description,
                ...checker.steps(entry, [...base, category, i]),
                ...extra(entry),
              }) as T,
      ),
      (option) => option.name,
      (i) => [...base, category, i],
      yaml,
    );
  const guest = plain<GuestOption>("guest", (entry) => {
    const { mtu, offloads, channels } = entry as {
      mtu?: number;
      offloads?: Record<string, boolean>;
      channels?: number;
    };
    const nic = {
      ...(mtu !== undefined ? { mtu } : {}),
      ...(offloads !== undefined ? { offloads } : {}),
      ...(channels !== undefined ? { channels } : {}),
    };
    return Object.keys(nic).length > 0 ? { nic } : {};
  });
  const hypervisor = plain<HypervisorOption>("hypervisor", (entry) => {
    const qemu = (entry as { qemu?: QemuSettingsInput }).qemu;
    if (!qemu) return {};
    const { device, ...rest } = qemu;
    return {
      qemu: {
        ...rest,
        ...(device
          ? {
              device: Object.fromEntries(Object.entries(device).map(([key, value]) => [key, onOff(value)])),
            }
          : {}),
      },
    };
  });
  const traffic = uniqueBy(
    cats.traffic.map((option, i) => trafficOption(option, [...base, "traffic", i], yaml, deps)),
    (option) => option.name,
    (i) => [...base, "traffic", i],
    yaml,
  );
  duplicateTraffic(traffic, yaml);

  const known: Record<keyof Rule, string[]> = {
    network: network.flatMap((o) => [o.name, `${o.name}:${o.direction}`]),
    cpu: cpu.map((o) => o.name),
    guest: guest.map((o) => o.name),
    hypervisor: hypervisor.map((o) => o.name),
    traffic: traffic.map((o) => o.name),
  };
  const rules = (which: "include" | "exclude") =>
    (input[which] ?? []).map((rule, i): Rule => {
      const result: Rule = {};
      for (const [category, value] of Object.entries(rule) as Array<[keyof Rule, string | string[]]>) {
        const list = typeof value === "string" ? [value] : value;
        for (const [j, name] of list.entries()) {
          if (known[category].includes(name)) continue;
          const path = typeof value === "string" ? [which, i, category] : [which, i, category, j];
          yaml.at(
            path,
            `unknown ${category} option ${show(name)} (expected one of ${[...new Set(known[category])].join(", ")})`,
          );
        }
        result[category] = list;
      }
      return result;
    });
  const include = rules("include");
  const exclude = rules("exclude");
  yaml.throwIfAny();

  const matrix: Matrix = {
    file,
    text,
    sha256: sha256(text),
    name: input.name,
    endpoints,
    network,
    cpu,
    guest,
    hypervisor,
    traffic,
    include,
    exclude,
    trials: input.trials ?? DEFAULT_TRIALS,
    order: input.order ?? "sequential",
    seed: input.seed ?? null,
    pauses: {
      betweenTrialsS: input.pauses?.betweenTrials ?? 0,
      betweenCellsS: input.pauses?.betweenCells ?? 0,
    },
    acceptance: acceptance(input.acceptance),
  };
  if (expandMatrix(matrix).length === 0) {
    const where = input.include ? "include" : input.exclude ? "exclude" : "categories";
    yaml.fail([where], "expected at least one cell: include/exclude filter out every combination");
  }
  return matrix;
}

/** Checks of names and patterns that report into the document's issues. */
class Checker {
  constructor(
    private readonly yaml: YamlIssues,
    private readonly names: readonly string[],
  ) {}

  endpoint(name: string | undefined, path: PathKey[]): void {
    if (name !== undefined && !this.names.includes(name))
      this.yaml.at(path, `unknown endpoint ${show(name)} (expected one of ${this.names.join(", ")})`);
  }

  pattern(text: string, path: PathKey[]): void {
    try {
      new RegExp(text);
    } catch (error) {
      this.yaml.at(path, `expected a regular expression: ${(error as Error).message}`);
    }
  }

  steps(
    option: { apply?: StepInput[]; revert?: StepInput[]; sysctl?: SysctlInput[] },
    path: PathKey[],
  ): Pick<OptionBase, "apply" | "revert" | "sysctl"> {
    const convert = (which: "apply" | "revert") =>
      (option[which] ?? []).map((step, i): Step => {
        this.endpoint(step.on, [...path, which, i, "on"]);
        return {
          on: step.on,
          run: step.run,
          ...(step.timeout !== undefined ? { timeoutS: step.timeout } : {}),
        };
      });
    const sysctl = option.sysctl?.map((setting, i): SysctlSetting => {
      this.endpoint(setting.on, [...path, "sysctl", i, "on"]);
      return { on: setting.on, name: setting.name, value: String(setting.value) };
    });
    return { apply: convert("apply"), revert: convert("revert"), ...(sysctl ? { sysctl } : {}) };
  }

  /** Exactly one of generator/process/pid (for numa, none means the generator). */
  selector(input: ProcessSelector, path: PathKey[], required: boolean): ProcessSelector {
    const given = (["generator", "process", "pid", "qemu"] as const).filter(
      (key) => input[key] !== undefined,
    );
    if (given.length > 1 || (required && given.length === 0))
      this.yaml.at(
        path,
        `expected exactly one of generator: true, process, pid or qemu, got ${given.length > 0 ? given.join(" and ") : "none"}`,
      );
    if ((input.generator || input.qemu) && input.on !== undefined)
      this.yaml.at(
        path,
        "the generator and the lab's qemu run on this host: `on` does not apply to them",
        "on",
      );
    this.endpoint(input.on, [...path, "on"]);
    if (input.process !== undefined) this.pattern(input.process, [...path, "process"]);
    if (input.threads !== undefined) this.pattern(input.threads, [...path, "threads"]);
    const selector: ProcessSelector = given.length === 0 ? { generator: true } : {};
    for (const key of ["on", "generator", "process", "pid", "qemu", "threads"] as const)
      if (input[key] !== undefined) (selector as Record<string, unknown>)[key] = input[key];
    return selector;
  }
}

function uniqueBy<T>(
  items: T[],
  key: (item: T) => string,
  path: (i: number) => PathKey[],
  yaml: YamlIssues,
): T[] {
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const k = key(item);
    const first = seen.get(k);
    if (first !== undefined)
      yaml.at(path(i), `expected a new name: option ${show(k)} is already entry ${first + 1} of this list`);
    else seen.set(k, i);
  });
  return items;
}

function size(value: number | string): number {
  return typeof value === "number" ? value : parseByteSize(value)!;
}

function takesRate(traffic: Pick<Traffic, "protocol" | "pattern">): boolean {
  const { protocol, pattern } = traffic;
  return (
    pattern === "paced" ||
    (protocol === "udp" && (pattern === "stream" || pattern === "maerts")) ||
    (protocol === "icmp" && pattern === "rr")
  );
}

function trafficOption(
  option: TrafficInput,
  path: PathKey[],
  yaml: YamlIssues,
  deps: ParseDependencies,
): TrafficOption {
  const { protocol, pattern } = option;
  const why = impossible(protocol, pattern);
  if (why) yaml.at([...path, "pattern"], `expected a pattern protocol ${protocol} has: ${why}`);
  const rates =
    option.rates?.flatMap((rate, i) => {
      try {
        return typeof rate === "number" ? [rate] : parseRates(rate);
      } catch {
        yaml.at([...path, "rates", i], `expected a rate in messages/s up to 10M or max, got ${show(rate)}`);
        return [];
      }
    }) ?? null;
  if (rates && !takesRate(option))
    yaml.at(
      [...path, "rates"],
      `expected no rates: ${protocol} ${pattern} sets its own pace (rates apply to paced traffic, udp streams and icmp rr)`,
    );
  const pacedMax = rates?.includes("max") && pattern === "paced";
  if (pacedMax)
    yaml.at([...path, "rates"], "expected numeric rates: paced traffic is open loop at a rate in messages/s");
  const traffic: Traffic[] = [];
  if (why || pacedMax) return { name: option.name, traffic };
  const reasons = new Set<string>();
  const axes = {
    ...{
      protocol,
      pattern,
      sizes: option.sizes.map(size),
      responseSizes: option.responseSizes?.map(size) ?? null,
    },
    ...{ rates, flows: option.flows ?? [1], ips: option.ip ?? [4] },
    ...{ durationS: option.duration ?? 5, warmupS: option.warmup ?? 1 },
  };
  const choice = option.driver ?? "builtin";
  for (const t of trafficCombinations(axes, (t) =>
    choice === "auto" ? (deps.autoDriver?.(t) ?? "builtin") : choice,
  )) {
    const reason = deps.unsupported(t);
    if (reason) reasons.add(reason);
    else traffic.push(t);
  }
  for (const reason of reasons)
    yaml.at(path, `expected traffic driver ${option.driver ?? "builtin"} can run: ${reason}`);
  return { name: option.name, description: option.description, traffic };
}

/** Two traffic options giving the same traffic would give two cells with one key. */
function duplicateTraffic(options: TrafficOption[], yaml: YamlIssues): void {
  const seen = new Map<string, string>();
  options.forEach((option, i) => {
    for (const t of option.traffic) {
      const key = JSON.stringify(t);
      const other = seen.get(key);
      if (other !== undefined && other !== option.name) {
        yaml.at(
          ["categories", "traffic", i],
          `expected traffic different from option ${show(other)}'s: both give ${t.protocol} ${t.pattern} ${t.requestSize}/${t.responseSize} rate=${t.rate}`,
        );
        return;
      }
      seen.set(key, option.name);
    }
  });
}

function ratio(value: number | string): number {
  return typeof value === "number" ? value : Number(value.slice(0, -1)) / 100;
}

function acceptance(input: MatrixInput["acceptance"]): Partial<Thresholds> {
  if (!input) return {};
  const result: Partial<Thresholds> = {};
  if (input.noise !== undefined) result.noise = ratio(input.noise);
  if (input.alpha !== undefined) result.alpha = ratio(input.alpha);
  if (input.metrics) {
    const entries = Object.entries(input.metrics) as [MetricName, number | string | false][];
    result.metrics = Object.fromEntries(
      entries.flatMap(([metric, value]) => (value === false ? [] : [[metric, ratio(value)]])),
    );
    result.judge = Object.fromEntries(entries.map(([metric, value]) => [metric, value !== false]));
  }
  if (input.inconclusive !== undefined) result.inconclusive = input.inconclusive;
  return result;
}

function readEndpoints(
  input: MatrixInput,
  yaml: YamlIssues,
  text: string,
  file: string,
  deps: ParseDependencies,
): MatrixEndpoints {
  const value = input.endpoints;
  if (value === undefined) return { kind: "default" };
  if (Array.isArray(value))
    return { kind: "inline", specs: parseEndpointsFile(onlyEndpoints(yaml, text), file) };
  if ("guests" in value) return { kind: "default", guests: value.guests };
  if ("lab" in value) {
    try {
      validateLabName(value.lab);
    } catch (error) {
      yaml.fail(
        ["endpoints", "lab"],
        `${(error as Error).message.replace(/^lab name "[^"]*": /, "")}, got ${show(value.lab)}`,
      );
    }
    return { kind: "lab", lab: value.lab };
  }
  const path = resolve(dirname(file), value.file);
  let fileText: string;
  try {
    fileText = deps.readText(path);
  } catch (error) {
    return yaml.fail(
      ["endpoints", "file"],
      `expected a readable endpoints file: ${(error as Error).message}`,
    );
  }
  return { kind: "file", file: path, specs: parseEndpointsFile(fileText, path) };
}

/**
 * The text with everything but the `endpoints:` entry blanked (newlines kept), so the endpoints
 * file's own validation reports positions in this file.
 */
function onlyEndpoints(yaml: YamlIssues, text: string): string {
  const contents = yaml.doc.contents;
  const pair = isMap(contents)
    ? contents.items.find((p) => (p.key as { value?: unknown })?.value === "endpoints")
    : undefined;
  const keyStart = (pair?.key as { range?: number[] } | undefined)?.range?.[0] ?? 0;
  const valueEnd = isSeq(pair?.value) ? (pair.value.range?.[2] ?? text.length) : text.length;
  return text.replace(/[^\n]/g, (ch, offset: number) => (offset >= keyStart && offset < valueEnd ? ch : " "));
}

/** Endpoint names steps and selectors may use. */
export function endpointNames(endpoints: MatrixEndpoints): string[] {
  const named =
    endpoints.kind === "file" || endpoints.kind === "inline"
      ? endpoints.specs.map((s) => s.name)
      : [...LAB_NODES];
  return named.includes(LOCAL_ENDPOINT) ? named : [...named, LOCAL_ENDPOINT];
}

export type { EndpointSpec };
