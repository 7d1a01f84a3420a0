// Typed errors and the exit codes they map to (named, so scripts can rely on them).

export const ExitCode = {
  ok: 0,
  /** Comparison found at least one regression (issue: acceptance). */
  regression: 1,
  badInput: 2,
  runFailed: 3,
  /** A comparison left a judged metric undecided, under `compare --strict` or `acceptance.inconclusive: fail`. */
  inconclusive: 4,
  /** `run --max-time` was reached: the whole trials done are stored and `run --resume` continues. */
  cutShort: 5,
  /** Stopped by Ctrl-C or SIGTERM (128 + SIGINT, the shell's convention). */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The user's input is wrong: a flag, a file, a name. The message says which and what was expected. */
export class InputError extends Error {
  override name = "InputError";
}

/** A run could not go on: an endpoint, tool or agent failed. Finished trials stay stored. */
export class RunError extends Error {
  override name = "RunError";
}

/** The run was stopped by a signal; what it finished is stored and `--resume` continues it. */
export class InterruptedError extends RunError {
  override name = "InterruptedError";
  constructor(readonly runId: string) {
    super(`interrupted — resume with \`vnetbench run --resume ${runId}\``);
  }
}
