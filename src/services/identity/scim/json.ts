/** A SCIM resource or complex value as parsed JSON. */
export type ScimObject = { [key: string]: unknown };

export function isObject(value: unknown): value is ScimObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The key of `obj` that names `name` case-insensitively (RFC 7643 §2.1), if any; own keys only, so "__proto__" tricks find nothing. */
export function findKey(obj: ScimObject, name: string): string | undefined {
  if (Object.hasOwn(obj, name)) return name;
  const lower = name.toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === lower);
}

export function getAttribute(obj: ScimObject, name: string): unknown {
  const key = findKey(obj, name);
  return key === undefined ? undefined : obj[key];
}

/** Sets `name`, reusing the key's existing spelling so that a resource never holds "userName" and "username" both. */
export function setAttribute(obj: ScimObject, name: string, value: unknown): void {
  Object.defineProperty(obj, findKey(obj, name) ?? name, { value, enumerable: true, writable: true, configurable: true });
}

export function deleteAttribute(obj: ScimObject, name: string): void {
  const key = findKey(obj, name);
  if (key !== undefined) delete obj[key];
}

/** RFC 7643 §2.5: null, "", [] and {} all mean "unassigned". */
export function isUnassigned(value: unknown): boolean {
  if (value === undefined || value === null || value === "") return true;
  if (Array.isArray(value)) return value.every(isUnassigned);
  if (isObject(value)) return Object.values(value).every(isUnassigned);
  return false;
}

/** Structural equality of JSON values; callers bound the depth of what they compare. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}
