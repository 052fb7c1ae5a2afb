import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"; // Crockford base32, lowercase

/** A random, URL- and key-safe id with a type prefix, e.g. "up_7k2m…" (128 bits). */
export function newId(prefix: string): string {
  const bytes = randomBytes(16);
  let out = "";
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return `${prefix}_${out}`;
}

/** Whether `id` has the shape newId(prefix) produces; anything else cannot exist. */
export function isWellFormedId(prefix: string, id: string): boolean {
  return id.length === prefix.length + 27 && id.startsWith(`${prefix}_`) && /^[0-9a-hjkmnp-tv-z]+$/.test(id.slice(prefix.length + 1));
}
