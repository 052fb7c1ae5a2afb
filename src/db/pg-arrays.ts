/**
 * PostgreSQL array literals for bulk parameters (`unnest($1::float8[], …)`).
 *
 * node-postgres turns a JS array into a literal element by element, quoting
 * and regex-escaping each one, and PGlite does much the same; for a 10,000-
 * point metric batch that was a large share of the server's CPU. These build
 * the literal once, and the parameter goes as one text value that both
 * backends cast with the element type's own input function.
 */

/** Doubles: String() spells NaN and ±Infinity as float8 input reads them; -0 keeps its sign. */
export function float8Array(values: readonly number[]): string {
  let out = "{";
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    out += (i ? "," : "") + (v === 0 && 1 / v < 0 ? "-0" : String(v));
  }
  return out + "}";
}

/** Integers (int4 or int8; safe integers print without an exponent), null as NULL. */
export function intArray(values: readonly (number | null)[]): string {
  let out = "{";
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    out += (i ? "," : "") + (v === null || v === undefined ? "NULL" : String(v));
  }
  return out + "}";
}

/** Strings, each double-quoted with `"` and `\` escaped; a repeated string is quoted once. */
export function textArray(values: readonly string[]): string {
  const quoted = new Map<string, string>();
  let out = "{";
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as string;
    let q = quoted.get(v);
    if (q === undefined) {
      q = `"${v.replace(/["\\]/g, "\\$&")}"`;
      quoted.set(v, q);
    }
    out += (i ? "," : "") + q;
  }
  return out + "}";
}
