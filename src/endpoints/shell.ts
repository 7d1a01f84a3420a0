// POSIX shell quoting, for the one place argv must become a string: the remote command of ssh.

const SAFE = /^[\w@%+=:,./-]+$/;

/** Quotes one argument so a POSIX shell reads it back byte for byte. */
export function shellQuote(arg: string): string {
  if (arg !== "" && SAFE.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** Joins argv into a command line a POSIX shell splits back into exactly these arguments. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}
