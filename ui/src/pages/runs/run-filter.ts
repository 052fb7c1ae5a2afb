/**
 * The runs table's filter box: text such as
 *   metrics.loss < 0.5 and params.optimizer = adam and tags.team = "vision" and status in (finished, failed)
 * read into the conditions SearchRuns takes (statuses, tags and params that
 * equal a value, metric thresholds). The server checks keys and limits and
 * answers with what is wrong; this only reads the shape of the text, and
 * says what it can read when it cannot.
 */
export type StatusName = "running" | "finished" | "failed" | "killed";
export type ThresholdOp = "<" | "<=" | ">" | ">=";

/** What the filter asks for, in SearchRuns' terms (use-experiment-runs.ts makes the request of it). */
export interface RunConditions {
  statuses: StatusName[];
  tags: Record<string, string>;
  params: Record<string, string>;
  metrics: { key: string; op: ThresholdOp; value: number }[];
}

export type ParsedFilter = { ok: true; conditions: RunConditions } | { ok: false; error: string };

export const FILTER_HELP =
  'Conditions joined by "and": metrics.KEY < 0.5 (also <=, >, >=), params.KEY = VALUE, tags.KEY = VALUE, status = finished or status in (running, failed). Quote values with spaces: tags.note = "two words".';

const OPS: readonly string[] = ["<", "<=", ">", ">="];
const STATUSES: readonly string[] = ["running", "finished", "failed", "killed"];

export function parseRunFilter(text: string): ParsedFilter {
  const conditions: RunConditions = { statuses: [], tags: {}, params: {}, metrics: [] };
  const parts = splitOnAnd(text.trim());
  if (parts === undefined) return { ok: false, error: "A quote is not closed." };
  for (const part of parts) {
    const error = readCondition(part, conditions);
    if (error) return { ok: false, error: `"${part}": ${error}` };
  }
  return { ok: true, conditions };
}

/** "a and b" → ["a", "b"], leaving "and" inside quotes alone; undefined when a quote is open. */
function splitOnAnd(text: string): string[] | undefined {
  if (!text) return [];
  const parts: string[] = [];
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (/\s/.test(c) && /^\s+and\s+/i.test(text.slice(i))) {
      parts.push(text.slice(start, i).trim());
      const m = /^\s+and\s+/i.exec(text.slice(i)) as RegExpExecArray;
      i += m[0].length - 1;
      start = i + 1;
    }
  }
  if (quote) return undefined;
  parts.push(text.slice(start).trim());
  return parts;
}

const CONDITION = /^(metrics|params|tags)\.(.+?)\s*(<=|>=|!=|<|>|=)\s*(.*)$/is;
const STATUS = /^status\s*(=|in)\s*(.*)$/is;

function readCondition(part: string, into: RunConditions): string | undefined {
  if (!part) return 'Write a condition on each side of "and".';
  const status = STATUS.exec(part);
  if (status) {
    const list = (status[1]?.toLowerCase() === "in" ? (status[2] ?? "").replace(/^\(|\)$/g, "") : (status[2] ?? "")).split(",");
    for (const raw of list) {
      const name = unquote(raw.trim()).toLowerCase();
      if (!STATUSES.includes(name)) return `a status is one of ${STATUSES.join(", ")}.`;
      if (!into.statuses.includes(name as StatusName)) into.statuses.push(name as StatusName);
    }
    return undefined;
  }
  const m = CONDITION.exec(part);
  if (!m) return "write metrics.KEY, params.KEY, tags.KEY or status, an operator and a value.";
  const [, kind, rawKey, op, rawValue] = m as unknown as [string, string, string, string, string];
  const key = unquote(rawKey.trim());
  const value = unquote(rawValue.trim());
  if (!value) return "a value is missing.";
  if (kind.toLowerCase() === "metrics") {
    if (!OPS.includes(op)) return "metrics compare with <, <=, > or >=.";
    const n = Number(value);
    if (value.trim() === "" || Number.isNaN(n)) return `"${value}" is not a number.`;
    into.metrics.push({ key, op: op as ThresholdOp, value: n });
    return undefined;
  }
  if (op !== "=") return `${kind.toLowerCase()} match with = (the value they have).`;
  (kind.toLowerCase() === "params" ? into.params : into.tags)[key] = value;
  return undefined;
}

function unquote(s: string): string {
  if (s.length >= 2 && (s[0] === '"' || s[0] === "'") && s[s.length - 1] === s[0]) return s.slice(1, -1);
  return s;
}
