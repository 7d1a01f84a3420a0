// Puts each cell's options in place before its trials: only the categories whose option changed
// from the previous trial are reverted and applied (hypervisor, then guest, network, cpu), and what
// is in place is recorded in the run so a resume after a crash can undo it first.

import type { Cell } from "../domain/cell.js";
import type { CpuSetupState } from "../domain/cpu-setup.js";
import type { Endpoint } from "../endpoints/endpoint.js";
import { InputError } from "../errors.js";
import type { SetupController, TrialContext } from "../run/runner.js";
import { applyCpuOption, revertCpuState } from "../setups/cpu.js";
import { readSysctls, runSteps, writeSysctls } from "../setups/options.js";
import type { CpuOption, Matrix, OptionBase, SysctlSetting } from "./matrix.js";

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
}

/** Endpoints by name, and the run's host for specs that name none. */
export interface EndpointDirectory {
  byName: ReadonlyMap<string, Endpoint>;
  host: Endpoint;
  local: Endpoint;
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

export class MatrixSetups implements SetupController {
  private readonly applied = new Map<SetupCategory, AppliedSetup>();
  private readonly endpointOf: (name: string | undefined) => Endpoint;

  constructor(
    private readonly matrix: Matrix,
    private readonly directory: EndpointDirectory,
    /** Called with what is in place after every change. */
    private readonly record: (applied: AppliedSetup[]) => void,
  ) {
    this.endpointOf = endpointLookup(directory);
  }

  async enter(cell: Cell, context: TrialContext): Promise<{ cpuSetup?: CpuSetupState }> {
    for (const category of APPLY_ORDER) {
      const option = optionOf(this.matrix, category, cell);
      const current = this.applied.get(category);
      const generator = context.generator.map((p) => `${p.endpoint.name}:${p.pid}`).sort();
      const cpu = category === "cpu" ? (option as CpuOption) : null;
      const same =
        current?.option === option.name &&
        current.direction === (category === "network" ? cell.setup.direction : undefined) &&
        !(cpu && usesGenerator(cpu) && JSON.stringify(current.generator) !== JSON.stringify(generator));
      if (same) continue;
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
      if (cpu) {
        entry.cpu = await applyCpuOption(cpu, {
          endpointOf: this.endpointOf,
          local: this.directory.local,
          generator: context.generator,
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
    return cpuSetup ? { cpuSetup } : {};
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
