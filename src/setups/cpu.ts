// The built-in CPU setups: `pin` (sched_setaffinity through taskset, per thread), `irq-affinity`
// (/proc/irq/N/smp_affinity_list, old value restored on revert) and `numa` (a node's CPUs and
// numactl's migratepages), each read back after it is applied. probe() says, before a run, why an
// option cannot be applied on this machine — the cell is then skipped with that reason.

import type { HypervisorTasks, LibvirtDomainTasks } from "../analysis/cpu-components.js";
import type { CpuSetupState, IrqAffinity, PinnedTask } from "../domain/cpu-setup.js";
import type { GeneratorProcess } from "../drivers/driver.js";
import type { Endpoint } from "../endpoints/endpoint.js";
import { parseEmulatorpin, parseVcpupin, Virsh } from "../endpoints/libvirt.js";
import { onThisMachine, sameMachine } from "../endpoints/machine.js";
import { RunError } from "../errors.js";
import type { CpuOption, IrqSpec, PinSpec, ProcessSelector } from "../matrix/matrix.js";
import { parseInterrupts } from "../monitors/proc-interrupts.js";
import { formatCpuList, normalizeCpuList, parseCpuList } from "./cpu-list.js";
import { allowedCpus, listTasks, type TaskEntry } from "./cpu-tasks.js";

export interface CpuContext {
  /** The endpoint a spec names; undefined: the run's host endpoint. */
  endpointOf(name: string | undefined): Endpoint;
  /** This machine's endpoint: the generator's processes on this machine are acted on through it. */
  local: Endpoint;
  /** The traffic generator's processes, wherever they run (empty before a session exists). */
  generator: readonly GeneratorProcess[];
  /** Called with the state, the next change and its old value included, before that change is made. */
  journal?(state: CpuSetupState): void;
  /** The lab's qemu processes and their vCPU threads (QMP), where there are qemu guests. */
  hypervisorTasks?(): Promise<HypervisorTasks | null>;
}

const STEP_TIMEOUT_MS = 15_000;

/** Where a selector's processes are probed for before a session exists: the generator's, here. */
function where(selector: ProcessSelector, context: CpuContext): Endpoint {
  return selector.generator || selector.qemu ? context.local : context.endpointOf(selector.on);
}

/** The lab's qemu threads a `qemu` selector names: vCPUs by QMP's thread ids, or all others. */
async function qemuTasks(
  selector: ProcessSelector,
  context: CpuContext,
  known?: HypervisorTasks | null,
): Promise<TaskEntry[]> {
  const hypervisor = known ?? (await context.hypervisorTasks?.());
  if (!hypervisor || hypervisor.qemuPids.length === 0) return [];
  const tasks = await listTasks(context.local, { pids: hypervisor.qemuPids, threads: selector.threads });
  const vcpu = new Set(hypervisor.vcpuTids);
  return tasks.filter((task) => vcpu.has(task.tid) === (selector.qemu === "vcpus"));
}

/**
 * Pins the qemu threads a selector names. A libvirt domain's go through libvirt — `virsh vcpupin`
 * per vCPU, `virsh emulatorpin` for all its other threads — so libvirt's own record (and cgroup)
 * agrees; each is read back from virsh and from the kernel. Other qemus' threads through taskset.
 */
async function pinQemu(
  selector: PinSpec,
  context: CpuContext,
  record: (task: PinnedTask) => void,
): Promise<void> {
  const hypervisor = await context.hypervisorTasks?.();
  const tasks = await qemuTasks(selector, context, hypervisor);
  if (tasks.length === 0)
    throw new RunError(`no thread of ${describeSelector(selector)} runs on ${context.local.name} to pin`);
  const domains = hypervisor?.libvirt ?? [];
  // emulatorpin moves every non-vCPU thread: a thread pattern is honoured with taskset instead.
  const viaLibvirt = (task: TaskEntry) =>
    (selector.qemu === "vcpus" || selector.threads === undefined) && domains.some((d) => d.pid === task.pid);
  await pinTasks(
    context.local,
    tasks.filter((task) => !viaLibvirt(task)),
    selector.cpus,
    record,
  );
  for (const domain of domains) {
    const own = tasks.filter((task) => task.pid === domain.pid && viaLibvirt(task));
    if (own.length > 0) await pinDomain(context.local, domain, own, selector.cpus, record);
  }
}

async function pinDomain(
  local: Endpoint,
  domain: LibvirtDomainTasks,
  tasks: TaskEntry[],
  cpus: string,
  record: (task: PinnedTask) => void,
): Promise<void> {
  const virsh = new Virsh(domain.uri, domain.domain);
  const vcpuOf = new Map(domain.vcpus.map((v) => [v.tid, v.vcpu]));
  const emulatorBefore = parseEmulatorpin(await virsh.run(["emulatorpin", domain.domain, "--live"]));
  const entries: PinnedTask[] = [];
  for (const task of tasks) {
    const previous = await readAffinity(local, task);
    if (previous === null) continue;
    const vcpu = vcpuOf.get(task.tid);
    const entry: PinnedTask = {
      endpoint: local.name,
      pid: task.pid,
      tid: task.tid,
      comm: task.comm,
      cpus,
      previous: vcpu === undefined ? (emulatorBefore ?? previous) : previous,
      libvirt: { domain: domain.domain, uri: domain.uri, ...(vcpu === undefined ? {} : { vcpu }) },
    };
    record(entry);
    entries.push(entry);
    if (vcpu !== undefined) await virsh.run(["vcpupin", domain.domain, String(vcpu), cpus, "--live"]);
  }
  if (entries.some((entry) => entry.libvirt!.vcpu === undefined))
    await virsh.run(["emulatorpin", domain.domain, cpus, "--live"]);
  const vcpuPins = parseVcpupin(await virsh.run(["vcpupin", domain.domain, "--live"]));
  const emulatorPin = parseEmulatorpin(await virsh.run(["emulatorpin", domain.domain, "--live"]));
  for (const entry of entries) {
    const { vcpu } = entry.libvirt!;
    const libvirtSays = vcpu === undefined ? emulatorPin : (vcpuPins.get(vcpu) ?? null);
    const now = await readAffinity(local, entry);
    const what = vcpu === undefined ? "emulator threads" : `vCPU ${vcpu}`;
    if (
      libvirtSays === null ||
      normalizeCpuList(libvirtSays) !== cpus ||
      (now !== null && normalizeCpuList(now) !== cpus)
    )
      throw new RunError(
        `pinning ${what} of libvirt domain ${domain.domain} to CPUs ${cpus}: virsh reads back ${libvirtSays ?? "nothing"}, ` +
          `the kernel reports ${now ?? "no thread"} for thread ${entry.tid} (${entry.comm})`,
      );
    if (now !== null) entry.cpus = now;
  }
}

/**
 * The generator's PIDs by the endpoint to act on them through: this machine's through `local`, a
 * remote machine's through the endpoint it runs on (its PIDs are that machine's).
 */
function generatorPlaces(context: CpuContext): Array<{ endpoint: Endpoint; pids: number[] }> {
  const places: Array<{ endpoint: Endpoint; pids: number[] }> = [];
  for (const { endpoint, pid } of context.generator) {
    const via = onThisMachine(endpoint) ? context.local : endpoint;
    const place = places.find((p) => sameMachine(p.endpoint, via));
    if (place) place.pids.push(pid);
    else places.push({ endpoint: via, pids: [pid] });
  }
  return places;
}

function describeSelector(selector: ProcessSelector): string {
  const what = selector.generator
    ? "the generator"
    : selector.qemu
      ? `the lab's qemu ${selector.qemu === "vcpus" ? "vCPU" : "emulator"}`
      : selector.pid !== undefined
        ? `PID ${selector.pid}`
        : `process /${selector.process}/`;
  return selector.threads ? `${what} threads /${selector.threads}/` : what;
}

async function onlineCpus(endpoint: Endpoint): Promise<number[]> {
  return parseCpuList(await endpoint.readFile("/sys/devices/system/cpu/online")) ?? [];
}

/** Why `cpus` cannot be used on the endpoint, or null. */
async function cpusMissing(endpoint: Endpoint, cpus: string): Promise<string | null> {
  const online = await onlineCpus(endpoint);
  const missing = (parseCpuList(cpus) ?? []).filter((cpu) => !online.includes(cpu));
  return missing.length === 0
    ? null
    : `CPU ${formatCpuList(missing)} is not online on ${endpoint.name} (online: ${formatCpuList(online)})`;
}

async function numaNodes(endpoint: Endpoint): Promise<number[]> {
  try {
    return parseCpuList(await endpoint.readFile("/sys/devices/system/node/online")) ?? [0];
  } catch {
    return [0]; // a kernel without NUMA support: one node
  }
}

async function matchingIrqs(
  endpoint: Endpoint,
  spec: IrqSpec,
): Promise<Array<{ irq: number; description: string }>> {
  const lines = parseInterrupts(await endpoint.readFile("/proc/interrupts")).filter((line) =>
    /^\d+$/.test(line.id),
  );
  const pattern = typeof spec.irq === "string" ? new RegExp(spec.irq) : null;
  return lines
    .filter((line) => (pattern ? pattern.test(line.description) : line.id === String(spec.irq)))
    .map((line) => ({ irq: Number(line.id), description: line.description }));
}

async function writeFile(endpoint: Endpoint, path: string, value: string): Promise<void> {
  await endpoint.exec(["tee", path], { input: `${value}\n`, timeoutMs: STEP_TIMEOUT_MS });
}

async function readTrimmed(endpoint: Endpoint, path: string): Promise<string> {
  return (await endpoint.readFile(path)).trim();
}

/** Why the option cannot be applied on this machine, or null when it can. */
export async function probeCpuOption(option: CpuOption, context: CpuContext): Promise<string | null> {
  for (const pin of option.pin) {
    const endpoint = where(pin, context);
    const missing = await cpusMissing(endpoint, pin.cpus);
    if (missing) return `pin: ${missing}`;
    if (pin.qemu) {
      // null: the qemu lab is not up yet (a plan made before the run); its threads are found then.
      const hypervisor = context.hypervisorTasks ? await context.hypervisorTasks() : undefined;
      if (hypervisor === null) continue;
      if (!hypervisor?.qemuPids.length || (await qemuTasks(pin, context)).length === 0)
        return `pin: no qemu guest runs here (${describeSelector(pin)} threads need a qemu lab)`;
      continue;
    }
    if (!pin.generator && (await listTasks(endpoint, pin)).length === 0)
      return `pin: no thread of ${describeSelector(pin)} runs on ${endpoint.name}`;
  }
  for (const spec of option.irqAffinity) {
    const endpoint = context.endpointOf(spec.on);
    const missing = await cpusMissing(endpoint, spec.cpus);
    if (missing) return `irqAffinity: ${missing}`;
    const irqs = await matchingIrqs(endpoint, spec);
    if (irqs.length === 0)
      return `irqAffinity: no IRQ matches ${JSON.stringify(spec.irq)} in /proc/interrupts on ${endpoint.name}`;
    // Writing the current value back changes nothing and tells whether the kernel lets us write.
    for (const { irq, description } of irqs) {
      const path = `/proc/irq/${irq}/smp_affinity_list`;
      try {
        await writeFile(endpoint, path, await readTrimmed(endpoint, path));
      } catch (error) {
        return `irqAffinity: IRQ ${irq} (${description}) on ${endpoint.name} cannot be moved (kernel-managed or no permission): ${(error as Error).message}`;
      }
    }
  }
  if (option.numa) {
    const endpoint = where(option.numa, context);
    const nodes = await numaNodes(endpoint);
    if (nodes.length <= 1)
      return `numa: ${endpoint.name} has ${nodes.length} NUMA node (${formatCpuList(nodes)}): binding to a node would change nothing`;
    if (!nodes.includes(option.numa.node))
      return `numa: node ${option.numa.node} does not exist on ${endpoint.name} (nodes: ${formatCpuList(nodes)})`;
    const numactl = await endpoint
      .exec(["numactl", "--hardware"], { allowFailure: true, timeoutMs: STEP_TIMEOUT_MS })
      .catch(() => null);
    if (numactl?.code !== 0) return `numa: numactl is not installed on ${endpoint.name}`;
  }
  return null;
}

/** The selected threads, on every machine they run on. */
async function tasksOf(
  selector: ProcessSelector,
  context: CpuContext,
): Promise<Array<{ endpoint: Endpoint; tasks: TaskEntry[] }>> {
  if (selector.qemu) {
    const tasks = await qemuTasks(selector, context);
    if (tasks.length === 0)
      throw new RunError(`no thread of ${describeSelector(selector)} runs on ${context.local.name} to pin`);
    return [{ endpoint: context.local, tasks }];
  }
  const places = selector.generator
    ? generatorPlaces(context).map(({ endpoint, pids }) => ({
        endpoint,
        selection: { pids, threads: selector.threads },
      }))
    : [{ endpoint: context.endpointOf(selector.on), selection: selector }];
  const found: Array<{ endpoint: Endpoint; tasks: TaskEntry[] }> = [];
  for (const { endpoint, selection } of places) {
    const tasks = await listTasks(endpoint, selection);
    if (tasks.length > 0) found.push({ endpoint, tasks });
  }
  if (found.length === 0) {
    const names = places.map((p) => p.endpoint.name).join(", ") || context.local.name;
    throw new RunError(`no thread of ${describeSelector(selector)} runs on ${names} to pin`);
  }
  return found;
}

async function readAffinity(endpoint: Endpoint, task: TaskEntry): Promise<string | null> {
  try {
    return allowedCpus(await endpoint.readFile(`/proc/${task.pid}/task/${task.tid}/status`));
  } catch {
    return null; // the thread has exited
  }
}

/**
 * Sets every task's affinity and reads it back; threads that exit meanwhile are left in place
 * (restoring them is a no-op). `record` gets each change, with the old affinity, before it is made.
 */
async function pinTasks(
  endpoint: Endpoint,
  tasks: TaskEntry[],
  cpus: string,
  record: (task: PinnedTask) => void,
): Promise<void> {
  for (const task of tasks) {
    const previous = await readAffinity(endpoint, task);
    if (previous === null) continue;
    const entry: PinnedTask = {
      endpoint: endpoint.name,
      pid: task.pid,
      tid: task.tid,
      comm: task.comm,
      cpus,
      previous,
    };
    record(entry);
    const set = await endpoint.exec(["taskset", "-p", "-c", cpus, String(task.tid)], {
      allowFailure: true,
      timeoutMs: STEP_TIMEOUT_MS,
    });
    const now = await readAffinity(endpoint, task);
    if (now === null) continue;
    if (set.code !== 0 || normalizeCpuList(now) !== cpus)
      throw new RunError(
        `pinning thread ${task.tid} (${task.comm}) of PID ${task.pid} on ${endpoint.name} to CPUs ${cpus}: ` +
          `the kernel reports ${now}${set.code !== 0 ? ` (taskset: ${set.stderr.trim()})` : ""}`,
      );
    entry.cpus = now;
  }
}

async function setIrq(
  endpoint: Endpoint,
  irq: number,
  description: string,
  cpus: string,
  record: (entry: IrqAffinity) => void,
): Promise<void> {
  const path = `/proc/irq/${irq}/smp_affinity_list`;
  const previous = await readTrimmed(endpoint, path);
  const entry: IrqAffinity = { endpoint: endpoint.name, irq, description, cpus, previous };
  record(entry);
  await writeFile(endpoint, path, cpus);
  const now = await readTrimmed(endpoint, path);
  if (normalizeCpuList(now) !== normalizeCpuList(cpus))
    throw new RunError(
      `IRQ ${irq} (${description}) on ${endpoint.name}: asked for CPUs ${cpus}, the kernel kept ${now}`,
    );
  entry.cpus = now;
}

/**
 * Applies a CPU option and returns what was read back. On failure, whatever it had already
 * changed is restored before the error propagates.
 */
export async function applyCpuOption(option: CpuOption, context: CpuContext): Promise<CpuSetupState> {
  const state: CpuSetupState = { option: option.name, status: "none", pins: [], irqs: [] };
  if (option.pin.length === 0 && option.irqAffinity.length === 0 && !option.numa) return state;
  state.status = "applied";
  // Each change is journaled before it is made, so a process killed midway leaves it to undo.
  const journal =
    <T>(list: T[]) =>
    (entry: T) => {
      list.push(entry);
      context.journal?.(state);
    };
  try {
    for (const pin of option.pin) {
      if (pin.qemu) {
        await pinQemu(pin, context, journal(state.pins));
        continue;
      }
      for (const { endpoint, tasks } of await tasksOf(pin, context))
        await pinTasks(endpoint, tasks, pin.cpus, journal(state.pins));
    }
    for (const spec of option.irqAffinity) {
      const endpoint = context.endpointOf(spec.on);
      const irqs = await matchingIrqs(endpoint, spec);
      if (irqs.length === 0)
        throw new RunError(`no IRQ matches ${JSON.stringify(spec.irq)} on ${endpoint.name} any more`);
      for (const { irq, description } of irqs)
        await setIrq(endpoint, irq, description, spec.cpus, journal(state.irqs));
    }
    if (option.numa) {
      const [place, ...more] = await tasksOf(option.numa, context);
      if (more.length > 0)
        throw new RunError(
          `numa: the generator runs on ${more.length + 1} machines; select one machine's processes (on, process or pid)`,
        );
      const { endpoint } = place!;
      const { node } = option.numa;
      const cpus = normalizeCpuList(await endpoint.readFile(`/sys/devices/system/node/node${node}/cpulist`));
      state.numa = { endpoint: endpoint.name, node, cpus, tasks: [] };
      await pinTasks(endpoint, place!.tasks, cpus, journal(state.numa.tasks));
      for (const pid of new Set(state.numa.tasks.map((task) => task.pid)))
        await endpoint.exec(["migratepages", String(pid), "all", String(node)], { timeoutMs: 60_000 });
    }
    return state;
  } catch (error) {
    await revertCpuState(state, context).catch(() => {});
    throw error instanceof RunError
      ? error
      : new RunError(`cpu option ${option.name}: ${(error as Error).message}`);
  }
}

/**
 * What no longer reads back as applied: a pinned thread whose affinity changed, a pinned process
 * that is gone (one started in its place has lost the pins), an IRQ whose affinity moved. A thread
 * that ended in a living process is not: the threads it starts inherit the pin. Empty when all holds.
 */
export async function cpuStateDrift(
  state: CpuSetupState,
  endpointOf: CpuContext["endpointOf"],
): Promise<string[]> {
  const drift: string[] = [];
  const tasks = [...state.pins, ...(state.numa?.tasks ?? [])];
  const alive = new Map<string, boolean>();
  for (const task of tasks) {
    const now = await readAffinity(endpointOf(task.endpoint), task);
    const key = `${task.endpoint}/${task.pid}`;
    alive.set(key, (alive.get(key) ?? false) || now !== null);
    if (now !== null && normalizeCpuList(now) !== normalizeCpuList(task.cpus))
      drift.push(`thread ${task.tid} (${task.comm}) runs on ${now}, not ${task.cpus}`);
  }
  for (const [key, living] of alive) if (!living) drift.push(`process ${key} is gone`);
  drift.push(...(await libvirtDrift(state.pins)));
  for (const irq of state.irqs) {
    const now = await readTrimmed(endpointOf(irq.endpoint), `/proc/irq/${irq.irq}/smp_affinity_list`).catch(
      () => null,
    );
    if (now === null || normalizeCpuList(now) !== normalizeCpuList(irq.cpus))
      drift.push(`IRQ ${irq.irq} (${irq.description}) is on ${now ?? "nothing"}, not ${irq.cpus}`);
  }
  return drift;
}

/** What libvirt's own record of its domains' pins (virsh vcpupin, emulatorpin) no longer says. */
async function libvirtDrift(pins: readonly PinnedTask[]): Promise<string[]> {
  const drift: string[] = [];
  const byDomain = new Map<string, PinnedTask[]>();
  for (const pin of pins) {
    if (!pin.libvirt) continue;
    const key = `${pin.libvirt.uri} ${pin.libvirt.domain}`;
    byDomain.set(key, [...(byDomain.get(key) ?? []), pin]);
  }
  for (const entries of byDomain.values()) {
    const { domain, uri } = entries[0]!.libvirt!;
    const virsh = new Virsh(uri, domain);
    try {
      const vcpus = parseVcpupin(await virsh.run(["vcpupin", domain, "--live"]));
      const emulator = parseEmulatorpin(await virsh.run(["emulatorpin", domain, "--live"]));
      for (const { libvirt, cpus } of entries) {
        const now = libvirt!.vcpu === undefined ? emulator : vcpus.get(libvirt!.vcpu);
        if (!now || normalizeCpuList(now) !== normalizeCpuList(cpus))
          drift.push(
            `libvirt domain ${domain}: ${libvirt!.vcpu === undefined ? "emulator" : `vCPU ${libvirt!.vcpu}`} pinned to ${now ?? "nothing"}, not ${cpus}`,
          );
      }
    } catch (error) {
      drift.push((error as Error).message);
    }
  }
  return drift;
}

/** Restores what applyCpuOption changed: affinities of threads still alive, and IRQs' old lists. */
export async function revertCpuState(
  state: CpuSetupState,
  context: Pick<CpuContext, "endpointOf">,
): Promise<void> {
  const failures: string[] = [];
  const tasks = [...state.pins, ...(state.numa?.tasks ?? [])].reverse();
  const emulatorsRestored = new Set<string>();
  for (const task of tasks) {
    const endpoint = context.endpointOf(task.endpoint);
    if (task.libvirt) {
      const { domain, uri, vcpu } = task.libvirt;
      const key = `${uri} ${domain}`;
      if (vcpu === undefined && emulatorsRestored.has(key)) continue;
      emulatorsRestored.add(key);
      const virsh = new Virsh(uri, domain);
      const args =
        vcpu === undefined
          ? ["emulatorpin", domain, task.previous, "--live"]
          : ["vcpupin", domain, String(vcpu), task.previous, "--live"];
      // A domain that is gone needs nothing restored.
      await virsh.run(args).catch(async (error: Error) => {
        if (
          await virsh.ensureRunning().then(
            () => true,
            () => false,
          )
        )
          failures.push(error.message);
      });
      continue;
    }
    const result = await endpoint
      .exec(["taskset", "-p", "-c", task.previous, String(task.tid)], {
        allowFailure: true,
        timeoutMs: STEP_TIMEOUT_MS,
      })
      .catch(() => null);
    // A thread that has exited needs nothing restored.
    if (result?.code !== 0 && (await readAffinity(endpoint, task)) !== null)
      failures.push(`thread ${task.tid}: ${result?.stderr.trim() ?? "taskset failed"}`);
  }
  for (const irq of [...state.irqs].reverse()) {
    const endpoint = context.endpointOf(irq.endpoint);
    const path = `/proc/irq/${irq.irq}/smp_affinity_list`;
    try {
      await writeFile(endpoint, path, irq.previous);
      const now = await readTrimmed(endpoint, path);
      if (normalizeCpuList(now) !== normalizeCpuList(irq.previous))
        failures.push(`IRQ ${irq.irq}: restored ${irq.previous}, reads ${now}`);
    } catch (error) {
      failures.push(`IRQ ${irq.irq}: ${(error as Error).message}`);
    }
  }
  if (failures.length > 0) throw new RunError(`reverting cpu option ${state.option}: ${failures.join("; ")}`);
}
