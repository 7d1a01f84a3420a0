// Positions in a YAML document for error messages: file:line:column, the field's path, and what
// was expected — shared by the matrix and endpoints files.

import { type Document, isMap, LineCounter, parseDocument, type Node as YamlNode } from "yaml";
import type { z } from "zod";
import { InputError } from "../errors.js";

export type PathKey = string | number;

export interface FileIssue {
  line: number;
  column: number;
  field: string;
  message: string;
}

export class MatrixFileError extends InputError {
  override name = "MatrixFileError";
  constructor(
    readonly file: string,
    readonly issues: FileIssue[],
  ) {
    super(issues.map((i) => `${file}:${i.line}:${i.column}: ${i.field}: ${i.message}`).join("\n"));
  }
}

export function fieldName(path: readonly PathKey[]): string {
  return (
    path.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? k : `.${k}`)).join("") || "(document)"
  );
}

export function show(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}

/** Offset of the deepest node along path that exists; with key, that key of the map. */
export function nodeOffset(doc: Document, path: readonly PathKey[], key?: string): number {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth), true) as YamlNode | undefined;
    if (!node) continue;
    if (key !== undefined && depth === path.length && isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      const keyNode = pair?.key as YamlNode | undefined;
      if (keyNode?.range) return keyNode.range[0];
    }
    if (node.range) return node.range[0];
  }
  return 0;
}

/** A parsed document and the issues found in it so far. */
export class YamlIssues {
  readonly issues: FileIssue[] = [];
  readonly doc: Document;
  private readonly lines = new LineCounter();

  constructor(
    readonly file: string,
    text: string,
  ) {
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: true });
    for (const error of this.doc.errors) {
      const pos = error.linePos?.[0] ?? { line: 1, col: 1 };
      this.issues.push({
        line: pos.line,
        column: pos.col,
        field: "(yaml)",
        message: error.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, ""),
      });
    }
  }

  offset(path: readonly PathKey[], key?: string): number {
    return nodeOffset(this.doc, path, key);
  }

  at(path: readonly PathKey[], message: string, key?: string): void {
    const { line, col } = this.lines.linePos(this.offset(path, key));
    this.issues.push({
      line,
      column: col,
      field: fieldName(key === undefined ? path : [...path, key]),
      message,
    });
  }

  /** Adds the issue and throws with every issue found so far. */
  fail(path: readonly PathKey[], message: string, key?: string): never {
    this.at(path, message, key);
    throw new MatrixFileError(this.file, this.issues);
  }

  throwIfAny(): void {
    if (this.issues.length > 0) throw new MatrixFileError(this.file, this.issues);
  }

  /** One issue per zod issue, worded as "expected …, got …". */
  addZodIssues(issues: readonly z.core.$ZodIssue[], data: unknown, base: readonly PathKey[] = []): void {
    for (const issue of issues) this.addZodIssue(issue, data, base);
  }

  private addZodIssue(issue: z.core.$ZodIssue, data: unknown, base: readonly PathKey[]): void {
    const path = [...base, ...(issue.path as PathKey[])];
    const value = path.reduce<unknown>(
      (v, k) => (v as Record<PathKey, unknown> | undefined)?.[k as PathKey],
      data,
    );
    switch (issue.code) {
      case "unrecognized_keys":
        for (const key of issue.keys) this.at(path, `unknown field${expectedKeys(issue.message)}`, key);
        return;
      case "invalid_union": {
        if (issue.message !== "Invalid input" || issue.errors.length === 0) break;
        // Explain the branch that got furthest (for a mapping, the object's own errors).
        const rootMismatch = (branch: z.core.$ZodIssue[]) => branch.filter((i) => i.path.length === 0).length;
        const best = [...issue.errors].sort((a, b) => rootMismatch(a) - rootMismatch(b))[0]!;
        this.addZodIssues(best, data, path);
        return;
      }
      case "invalid_value":
        if (issue.values.length > 0) {
          this.at(path, `expected one of ${issue.values.join(", ")}, got ${show(value)}`);
          return;
        }
        break;
      case "invalid_type":
        if (value === undefined) {
          this.at(path.slice(0, -1), `missing field ${String(path[path.length - 1])}`);
          return;
        }
        if (!issue.message.startsWith("expected")) {
          this.at(
            path,
            `expected ${issue.expected === "int" ? "a whole number" : `a ${issue.expected}`}, got ${show(value)}`,
          );
          return;
        }
        break;
    }
    const message = issue.message.startsWith("expected") ? issue.message : lowerFirst(issue.message);
    this.at(path, `${message}, got ${show(value)}`);
  }
}

/** Our strict objects list their fields in the unknown-keys message's place (see schema.ts). */
function expectedKeys(message: string): string {
  const match = /\(expected: .*\)$/.exec(message);
  return match ? ` ${match[0]}` : "";
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** The document as plain data; an alias bomb (anchors expanding without bound) is bad input, not a crash. */
export function yamlToJs(doc: Document, file: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    throw new InputError(`${file}: ${(error as Error).message}`);
  }
}
