import { parseAttributePath } from "./filter.js";

/**
 * What PATCH needs to know of one resource type (User, Group). Paths are dotted and written in their canonical
 * case, which is the case PATCH uses for attributes it creates; look-ups are case-insensitive.
 * Extension attributes are written "<extension URN>:<attribute>", e.g.
 * "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber".
 */
export interface ScimResourceSchema {
  /** e.g. "urn:ietf:params:scim:schemas:core:2.0:User": attributes qualified with it live at the top level. */
  readonly coreSchema: string;
  /** Every attribute and sub-attribute a request may name: "userName", "name", "name.familyName", "emails", "emails.value"… */
  readonly attributes: readonly string[];
  /** Multi-valued attributes: "emails", "members". */
  readonly multiValued: readonly string[];
  /** Boolean attributes, whose "True"/"False" strings (Entra ID) become booleans: "active", "emails.primary". */
  readonly booleans: readonly string[];
  /** Attributes no PATCH may change (RFC 7643 mutability readOnly): "id", "meta", "groups". */
  readonly readOnly: readonly string[];
  /** caseExact attributes, for value filters in paths; DEFAULT_CASE_EXACT when absent. */
  readonly caseExact?: readonly string[];
}

export interface SchemaIndex {
  readonly schema: ScimResourceSchema;
  readonly coreSchema: string;
  /** Lower-cased full path → canonical spelling of its last segment. */
  readonly names: ReadonlyMap<string, string>;
  /** Lower-cased extension URN → canonical URN, the key of the extension's object in a resource. */
  readonly extensions: ReadonlyMap<string, string>;
  readonly multiValued: ReadonlySet<string>;
  readonly booleans: ReadonlySet<string>;
  readonly readOnly: ReadonlySet<string>;
  /** Attributes that have sub-attributes. */
  readonly complex: ReadonlySet<string>;
}

const indexes = new WeakMap<ScimResourceSchema, SchemaIndex>();

/** Indexes a schema once; routes pass the same constant object on every request. */
export function indexSchema(schema: ScimResourceSchema): SchemaIndex {
  const cached = indexes.get(schema);
  if (cached) return cached;
  const names = new Map<string, string>();
  const extensions = new Map<string, string>();
  const complex = new Set<string>();
  for (const full of schema.attributes) {
    const path = parseAttributePath(full);
    const base = path.schema ? `${path.schema.toLowerCase()}:` : "";
    if (path.schema) extensions.set(path.schema.toLowerCase(), path.schema);
    const attribute = `${base}${path.attribute.toLowerCase()}`;
    names.set(attribute, path.attribute);
    if (path.subAttribute) {
      complex.add(attribute);
      names.set(`${attribute}.${path.subAttribute.toLowerCase()}`, path.subAttribute);
    }
  }
  const lower = (list: readonly string[]) => new Set(list.map((s) => s.toLowerCase()));
  const index: SchemaIndex = {
    schema,
    coreSchema: schema.coreSchema.toLowerCase(),
    names,
    extensions,
    multiValued: lower(schema.multiValued),
    booleans: lower(schema.booleans),
    readOnly: lower(schema.readOnly),
    complex,
  };
  indexes.set(schema, index);
  return index;
}
