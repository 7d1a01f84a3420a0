// Free-text names a user gives (labels, testers): stored and printed literally, so they must be
// printable on one line — no control characters (newlines, terminal escapes), no bytes that were
// not UTF-8, and a sane length.

import { InputError } from "../errors.js";

export const MAX_NAME_LENGTH = 200;

/** The value, or an InputError naming the flag and what is wrong with it. */
export function checkName(flag: string, value: string): string {
  if (value.length > MAX_NAME_LENGTH)
    throw new InputError(`${flag}: ${value.length} characters is too long (at most ${MAX_NAME_LENGTH})`);
  // U+FFFD is what Node makes of bytes that are not UTF-8 in an argument.
  if (value.includes("\uFFFD")) throw new InputError(`${flag}: the value is not valid UTF-8`);
  const control = [...value].find((char) => /[\p{Cc}\u2028\u2029]/u.test(char));
  if (control !== undefined)
    throw new InputError(
      `${flag}: control character U+${control.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")} ` +
        "(a newline, tab or terminal escape) is not allowed; use printable text",
    );
  return value;
}
