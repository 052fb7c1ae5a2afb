import { ScimPatchError } from "./errors.js";
import { isObject, setAttribute, type ScimObject } from "./json.js";
import type { PatchTarget } from "./patch.js";
import type { SchemaIndex } from "./schema.js";

/**
 * Checks a PATCH value against the shape of its target and returns it in canonical form: sub-attribute names in
 * their schema case, null sub-attributes dropped (Entra sends `"$ref": null`; null means unassigned), and the
 * strings "True"/"False" (any case) of Entra ID turned into booleans where the schema says boolean.
 */
export function normalizeValue(index: SchemaIndex, opIndex: number, target: PatchTarget, value: unknown): unknown {
  const key = target.subAttribute ? `${target.key}.${target.subAttribute.toLowerCase()}` : target.key;
  const label = target.label.slice(0, 80);
  const fail = (why: string) => new ScimPatchError("invalidValue", opIndex, `Operations[${opIndex}] "${label}": ${why}`);

  function element(elementKey: string, v: unknown): unknown {
    if (index.booleans.has(elementKey)) {
      if (typeof v === "boolean") return v;
      if (typeof v === "string" && /^(true|false)$/i.test(v)) return v.toLowerCase() === "true";
      throw fail(`"${elementKey}" is a boolean: send true or false, not ${JSON.stringify(v)?.slice(0, 40)}`);
    }
    const complex = index.complex.has(elementKey);
    if (!isObject(v)) {
      if (complex) throw fail(`"${elementKey}" takes an object of sub-attributes, not ${JSON.stringify(v)?.slice(0, 40)}`);
      if (Array.isArray(v)) throw fail(`"${elementKey}" takes one value, not an array`);
      return v;
    }
    if (!complex) throw fail(`"${elementKey}" takes a simple value, not an object`);
    const out: ScimObject = {};
    for (const [name, sub] of Object.entries(v)) {
      if (sub === null) continue;
      const subKey = `${elementKey}.${name.toLowerCase()}`;
      const canonical = index.names.get(subKey);
      if (canonical === undefined) throw new ScimPatchError("invalidPath", opIndex, `Operations[${opIndex}] "${label}": "${elementKey}" has no sub-attribute "${name.slice(0, 40)}"`);
      if (typeof sub === "object") throw fail(`sub-attribute "${subKey}" takes a simple value`);
      setAttribute(out, canonical, element(subKey, sub));
    }
    return out;
  }

  if (value === null) return null;
  if (Array.isArray(value)) {
    if (!index.multiValued.has(key)) throw fail(`"${key}" takes one value, not an array`);
    return value.filter((v) => v !== null).map((v) => element(key, v));
  }
  return element(key, value);
}
