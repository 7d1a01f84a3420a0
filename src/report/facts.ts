// A run's recorded facts (metadata) as HTML tables a reviewer reads: nested values flattened to
// dotted names, one column per endpoint where facts are per endpoint, and the matrix file as the
// YAML it was written in. Pure.

import { stringify } from "yaml";

type Html = (text: string) => string;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A scalar as text; lists of scalars joined. */
function scalar(value: unknown): string | null {
  if (value === null || value === undefined) return "-";
  if (typeof value !== "object") return String(value);
  if (Array.isArray(value) && value.every((item) => !isObject(item) && !Array.isArray(item)))
    return value.length === 0 ? "-" : value.map(String).join(", ");
  return null;
}

/** Name of one entry of a list of objects: its endpoint, name or role, else its position. */
function entryName(item: unknown, index: number): string {
  if (isObject(item))
    for (const key of ["endpoint", "name", "role"]) if (typeof item[key] === "string") return item[key];
  return String(index + 1);
}

/** Dotted names and their text, e.g. `nics.eth0.driver: virtio_net`. */
export function flattenFacts(value: unknown, prefix = ""): Array<[string, string]> {
  const text = scalar(value);
  if (text !== null) return [[prefix || "value", text]];
  const entries = Array.isArray(value)
    ? value.map((item, i): [string, unknown] => [entryName(item, i), item])
    : Object.entries(value as Record<string, unknown>);
  return entries.flatMap(([key, item]) => flattenFacts(item, prefix ? `${prefix}.${key}` : key));
}

/** Per-endpoint facts (a list of objects, or an object of objects): one column per endpoint. */
function perEndpoint(value: unknown): Array<[string, unknown]> | null {
  if (Array.isArray(value) && value.length > 0 && value.every(isObject))
    return value.map((item, i) => [entryName(item, i), item]);
  if (isObject(value) && Object.keys(value).length > 0 && Object.values(value).every(isObject))
    return Object.entries(value);
  return null;
}

function table(headers: string[], rows: string[][], html: Html): string {
  const head = headers.map((h) => `<th>${html(h)}</th>`).join("");
  const body = rows.map((row) => `<tr>${row.map((c) => `<td class="text">${html(c)}</td>`).join("")}</tr>`);
  return `<table class="facts"><thead><tr>${head}</tr></thead><tbody>\n${body.join("\n")}\n</tbody></table>`;
}

/** One fact group as a table: `fact | value`, or `fact | endpoint… ` for per-endpoint facts. */
export function factsTable(name: string, value: unknown, html: Html): string {
  const columns = perEndpoint(value);
  if (!columns) return table(["fact", "value"], flattenFacts(value, name), html);
  const flat = columns.map(([, item]) => new Map(flattenFacts(item)));
  const keys = [...new Set(flat.flatMap((facts) => [...facts.keys()]))];
  return table(
    [name, ...columns.map(([column]) => column)],
    keys.map((key) => [key, ...flat.map((facts) => facts.get(key) ?? "-")]),
    html,
  );
}

/** The matrix a run was made from: the file's text as written (YAML), its other facts in a table. */
export function matrixFacts(matrix: unknown, html: Html): string {
  if (!isObject(matrix)) return "";
  const { text, ...rest } = matrix;
  const yaml = typeof text === "string" ? text : stringify(rest);
  return `<pre class="yaml">${html(yaml.trimEnd())}</pre>\n${table(["fact", "value"], flattenFacts(rest, "matrix"), html)}`;
}
