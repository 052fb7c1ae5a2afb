import { InvalidFilterError } from "./errors.js";

/**
 * Tokens of the RFC 7644 §3.4.2.2 filter grammar. Words are maximal runs of anything but blanks, brackets and
 * quotes: attribute paths, operators, keywords and bare literals all arrive as words, and the parser decides
 * which one it expects at that point (so its errors can say what was expected).
 */
export type Token =
  | { readonly kind: "(" | ")" | "[" | "]" | "end"; readonly pos: number }
  | { readonly kind: "word"; readonly text: string; readonly pos: number }
  | { readonly kind: "string"; readonly value: string; readonly pos: number };

const PUNCTUATION = new Set(["(", ")", "[", "]"]);
const WORD_END = /[\s()[\]"]/;

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (PUNCTUATION.has(c)) {
      tokens.push({ kind: c as "(" | ")" | "[" | "]", pos: i });
      i++;
    } else if (c === '"') {
      const end = stringEnd(text, i);
      tokens.push({ kind: "string", value: decodeString(text.slice(i, end + 1), i), pos: i });
      i = end + 1;
    } else {
      const start = i;
      while (i < text.length && !WORD_END.test(text[i] as string)) i++;
      tokens.push({ kind: "word", text: text.slice(start, i), pos: start });
    }
  }
  tokens.push({ kind: "end", pos: text.length });
  return tokens;
}

/** Index of the quote closing the string opened at `start`; a backslash always escapes the next character. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i;
  }
  throw new InvalidFilterError(`unterminated string starting at position ${start}: close it with a double quote`, start);
}

/** Filter strings are JSON strings (RFC 7644 §3.4.2.2), so JSON decides which escapes are valid. */
function decodeString(quoted: string, pos: number): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    throw new InvalidFilterError(
      `invalid string at position ${pos}: use JSON escapes (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX) and no raw control characters`,
      pos,
    );
  }
}

/** How a token reads in an error message: short, and never the whole of a hostile input. */
export function describeToken(token: Token): string {
  const clip = (s: string) => (s.length > 40 ? `${s.slice(0, 40)}…` : s);
  switch (token.kind) {
    case "end":
      return "the end of the filter";
    case "word":
      return `"${clip(token.text)}"`;
    case "string":
      return `the string ${clip(JSON.stringify(token.value))}`;
    default:
      return `"${token.kind}"`;
  }
}
