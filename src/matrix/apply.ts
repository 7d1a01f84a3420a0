// Puts each cell's options in place before its trials: only the categories whose option changed
// from the previous trial are reverted and applied (hypervisor, then guest, network, cpu), and what
// is in place is recorded in the run so a resume after a crash can undo it first. A hypervisor
// option's qemu settings restart the lab's guests when they need another machine; guest and
// hypervisor settings and CPU pins are read back every trial.

import type { HypervisorTasks } from "../analysis/cpu-components.js";
import type { Cell } from "../domain/cell.js";
import type { CpuSetupState } from "../domain/cpu-setup.js";
import type { Endpoint } from "../endpoints/endpoint.js";
import { InputError, RunError } from "../errors.js";
import { type GuestMachine, machineMismatches, machineWith, sameQemuMachine } from "../guests/settings.js";
import type { GuestControl } from "../labs/guest-control.js";
import type { SetupController, TrialContext, TrialSetupState } from "../run/runner.js";
import { applyCpuOption, cpuStateDrift, revertCpuState } from "../setups/cpu.js";
import { applyNic, type NicState, readNics, restoreNics } from "../setups/guest-nic.js";
import { readSysctls, runSteps, writeSysctls } from "../setups/options.js";
import type {
  CpuOption,
  GuestOption,
  HypervisorOption,
  Matrix,
  OptionBase,
  SysctlSetting,
} from "./matrix.js";

const APPLY_ORDER = ["hypervisor", "guest", "network", "cpu"] as const;
type SetupCategory = (typeof APPLY_ORDER)[number];

/** An option in place, as recorded in the run's metadata (`appliedSetups`). */
export interface AppliedSetup {
  category: SetupCategory;
  option: string;
  /** For a network option, its direction (options are named by setup and direction). */
  direction?: string;
  cpu?: CpuSetupState;
  /** The generator's processes a generator pin was applied to (endpoint:PID): new ones (a new session) need it again. */
  generator?: string[];
  /** The option's kernel settings as they were before it set them: what its revert restores. */
  sysctl?: SysctlSetting[];
  /** A guest option's NIC settings as they were before it set them, per guest. */
  nic?: NicState[];
}

/** A restart of the lab's guests for a hypervisor option (run metadata `guestRestarts`). */
export interface GuestRestart {
  option: string;
  at: string;
  bootMs: Record<string, number>;
}

/** Endpoints by name, and the run's host for specs that name none. */
export interface EndpointDirectory {
  byName: ReadonlyMap<string, Endpoint>;
  host: Endpoint;
  local: Endpoint;
  /** The lab's qemu processes and vCPU threads, for `qemu` pin selectors. */
  hypervisorTasks?(): Promise<HypervisorTasks | null>;
}

export function endpointLookup(directory: EndpointDirectory): (name: string | undefined) => Endpoint {
  return (name) => {
    if (name === undefined) return directory.host;
    const endpoint = directory.byName.get(name);
    if (!endpoint)
      throw new InputError(`unknown endpoint "${name}" (known: ${[...directory.byName.keys()].join(", ")})`);
    return endpoint;
  };
}

function optionOf(matrix: Matrix, category: SetupCategory, cell: Cell): OptionBase | CpuOption {
  const { setup } = cell;
  const found =
    category === "network"
      ? matrix.network.find((o) => o.name === setup.network && o.direction === setup.direction)
      : (matrix[category] as OptionBase[]).find((o) => o.name === setup[category]);
  if (!found)
    throw new InputError(`cell ${cell.key}: the matrix has no ${category} option ${setup[category]}`);
  return found;
}

function usesGenerator(option: CpuOption): boolean {
  return option.pin.some((pin) => pin.generator) || option.numa?.generator === true;
}

export interface GuestSetupOptions {
  control: GuestControl;
  /** Put the lab's own machine back at the end (a lab the run did not bring up). */
  restoreMachine: boolean;
  onRestart?(restart: GuestRestart): void;
}

export class MatrixSetups implements SetupController {
  private readonly applied = new Map<SetupCategory, AppliedSetup>();
  private readonly endpointOf: (name: string | undefined) => Endpoint;
  /** The machine the lab's guests had before any option restarted them. */
  private readonly labMachine: GuestMachine | undefined;
  private restarts = 0;

  constructor(
    private readonly matrix: Matrix,
    private readonly directory: EndpointDirectory,
    /** Called with what is in place after every change. */
    private readonly record: (applied: AppliedSetup[]) => void,
    private readonly guests?: GuestSetupOptions,
  ) {
    this.endpointOf = endpointLookup(directory);
    this.labMachine = guests?.control.qemu?.machine();
  }

  /**
   * Restarts the guests when the cell's hypervisor option needs another machine than the one
   * running; everything applied is undone first (it is re-applied on the new guests). True when
   * the guests were restarted: sessions with agents in them must be opened again.
   */
  async beforeSession(cell: Cell): Promise<boolean> {
    const qemu = this.guests?.control.qemu;
    if (!qemu || !this.labMachine) return false;
    const option = optionOf(this.matrix, "hypervisor", cell) as HypervisorOption;
    const target = machineWith(this.labMachine, option.qemu);
    if (sameQemuMachine(qemu.machine(), target, qemu.vhostUnusable === null)) return false;
    await this.close();
    const bootMs = await qemu.restart(target);
    this.restarts++;
    this.guests?.onRestart?.({ option: option.name, at: new Date().toISOString(), bootMs });
    return true;
  }

  async enter(cell: Cell, context: TrialContext): Promise<TrialSetupState> {
    for (const category of APPLY_ORDER) {
      const option = optionOf(this.matrix, category, cell);
      const current = this.applied.get(category);
      const generator = context.generator.map((p) => `${p.endpoint.name}:${p.pid}`).sort();
      const cpu = category === "cpu" ? (option as CpuOption) : null;
      const same =
        current?.option === option.name &&
        current.direction === (category === "network" ? cell.setup.direction : undefined) &&
        !(cpu && usesGenerator(cpu) && JSON.stringify(current.generator) !== JSON.stringify(generator));
      // Pins are read back every trial: a thread recreated since (a restarted agent or qemu) has
      // lost its pin, and the option is then applied again.
      if (same && !(current.cpu && (await cpuStateDrift(current.cpu, this.endpointOf)).length > 0)) continue;
      if (current) await this.leave(current);
      const entry: AppliedSetup = {
        category,
        option: option.name,
        ...(category === "network" ? { direction: cell.setup.direction } : {}),
      };
      // Recorded before it runs: a crash midway still leaves the revert to do on resume.
      this.applied.set(category, entry);
      this.save();
      if (option.sysctl) {
        const what = `${category} option ${option.name} apply`;
        entry.sysctl = await readSysctls(option.sysctl, this.endpointOf, what);
        this.save();
        await writeSysctls(option.sysctl, this.endpointOf, what);
      }
      await runSteps(
        option.apply,
        (name) => this.endpointOf(name),
        `${category} option ${option.name} apply`,
      );
      const nic = category === "guest" ? (option as GuestOption).nic : undefined;
      if (nic) {
        const nics = this.requireNics(option.name);
        entry.nic = await readNics(nics, nic);
        this.save();
        await applyNic(nics, nic, `guest option ${option.name}`);
      }
      if (cpu) {
        entry.cpu = await applyCpuOption(cpu, {
          endpointOf: this.endpointOf,
          local: this.directory.local,
          generator: context.generator,
          hypervisorTasks: this.directory.hypervisorTasks,
          journal: (state) => {
            entry.cpu = structuredClone(state);
            this.save();
          },
        });
        if (usesGenerator(cpu)) entry.generator = generator;
        this.save();
      }
    }
    const cpuSetup = this.applied.get("cpu")?.cpu;
    return {
      ...(cpuSetup ? { cpuSetup } : {}),
      ...(await this.readBackHypervisor(cell)),
      ...(await this.readBackGuest(cell)),
    };
  }

  private requireNics(option: string) {
    const nics = this.guests?.control.nics;
    if (!nics?.length) throw new RunError(`guest option ${option}: NIC settings need a lab's guests`);
    return nics;
  }

  /** The guests' machine as QMP, the host and the guests report it, checked against the option. */
  private async readBackHypervisor(cell: Cell): Promise<Pick<TrialSetupState, "hypervisorSetup">> {
    const qemu = this.guests?.control.qemu;
    if (!qemu || !this.labMachine || !this.matrix.hypervisor.some((o) => o.qemu)) return {};
    const option = optionOf(this.matrix, "hypervisor", cell) as HypervisorOption;
    const asked = machineWith(this.labMachine, option.qemu);
    const guests = await qemu.readBack();
    const wrong = Object.entries(guests).flatMap(([guest, seen]) =>
      machineMismatches(asked, seen, qemu.vhostUnusable === null).map((what) => `${guest} ${what}`),
    );
    if (wrong.length > 0)
      throw new RunError(`hypervisor option ${option.name} does not read back: ${wrong.join("; ")}`);
    return { hypervisorSetup: { option: option.name, restarts: this.restarts, guests } };
  }

  /** The guests' NIC settings read back, checked against the option. */
  private async readBackGuest(cell: Cell): Promise<Pick<TrialSetupState, "guestSetup">> {
    const option = optionOf(this.matrix, "guest", cell) as GuestOption;
    if (!option.nic) return {};
    const read = await readNics(this.requireNics(option.name), option.nic, option.nic);
    const wrong = read.flatMap((state) => state.mismatches.map((what) => `${state.node} ${what}`));
    if (wrong.length > 0)
      throw new RunError(`guest option ${option.name} does not read back: ${wrong.join("; ")}`);
    return {
      guestSetup: {
        option: option.name,
        nics: Object.fromEntries(read.map((state) => [state.node, state.settings])),
      },
    };
  }

  /** Reverts what a crashed run left in place (from its recorded `appliedSetups`). */
  async recover(stale: readonly AppliedSetup[]): Promise<void> {
    for (const entry of [...stale].reverse()) await this.undo(entry);
    this.save();
  }

  async close(): Promise<void> {
    for (const category of [...APPLY_ORDER].reverse()) {
      const current = this.applied.get(category);
      if (current) await this.leave(current);
    }
  }

  /** Undoes every option, and gives a lab the run did not bring up its own machine back. */
  async finish(): Promise<void> {
    await this.close();
    const qemu = this.guests?.control.qemu;
    if (!qemu || !this.labMachine || !this.guests?.restoreMachine) return;
    if (!sameQemuMachine(qemu.machine(), this.labMachine, qemu.vhostUnusable === null))
      await qemu.restart(this.labMachine);
  }

  private async leave(entry: AppliedSetup): Promise<void> {
    this.applied.delete(entry.category);
    try {
      await this.undo(entry);
    } finally {
      this.save();
    }
  }

  private async undo(entry: AppliedSetup): Promise<void> {
    if (entry.cpu) await revertCpuState(entry.cpu, { endpointOf: this.endpointOf });
    const option = this.findOption(entry);
    const what = `${entry.category} option ${entry.option} revert`;
    if (option) await runSteps(option.revert, (name) => this.endpointOf(name), what);
    if (entry.sysctl) await writeSysctls([...entry.sysctl].reverse(), this.endpointOf, what);
    if (entry.nic && this.guests) await restoreNics(this.guests.control.nics, entry.nic, what);
  }

  private findOption(entry: AppliedSetup): OptionBase | undefined {
    if (entry.category === "network")
      return this.matrix.network.find((o) => o.name === entry.option && o.direction === entry.direction);
    return (this.matrix[entry.category] as OptionBase[]).find((o) => o.name === entry.option);
  }

  private save(): void {
    this.record([...this.applied.values()]);
  }
}
