/** Checks for identity fields, shared by the gRPC handlers and SCIM. Each throws InvalidInputError naming the field. */
import { Role } from "../../../gen/traintrack/v1/role_pb.js";
import { ApiKeyScope } from "../../../gen/traintrack/v1/api_key_pb.js";
import { InvalidInputError } from "../../services/errors.js";
import type { KeyScope, Role as RoleName } from "../../services/identity/index.js";
import { noControl } from "./fields.js";

// SCIM userNames are often emails ("alice@example.com") or domain names ("EXAMPLE\alice" is not accepted).
const USER_NAME = /^[\p{L}\p{N}][\p{L}\p{N}._@+-]*$/u;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

const bytes = (value: string) => Buffer.byteLength(value, "utf8");

function limited(field: string, value: string, max: number): string {
  noControl(field, value);
  if (bytes(value) > max) throw new InvalidInputError(field, `${field} is ${bytes(value)} bytes long; the limit is ${max}`);
  return value;
}

export function userName(field: string, value: string): string {
  if (!value) throw new InvalidInputError(field, `${field} is required`);
  limited(field, value, 128);
  if (!USER_NAME.test(value)) {
    throw new InvalidInputError(field, `${field} ${JSON.stringify(value)} may only hold letters, digits and "._@+-", and must start with a letter or digit`);
  }
  return value;
}

export function displayName(field: string, value: string): string {
  return limited(field, value, 256).trim();
}

/** A required display name (groups). */
export function groupName(field: string, value: string): string {
  const name = displayName(field, value);
  if (!name) throw new InvalidInputError(field, `${field} is required`);
  return name;
}

export function email(field: string, value: string): string {
  if (!value) return "";
  limited(field, value, 254);
  if (!EMAIL.test(value)) throw new InvalidInputError(field, `${field} ${JSON.stringify(value)} is not an email address (name@domain)`);
  return value;
}

export function externalId(field: string, value: string): string {
  return limited(field, value, 256);
}

/** A key's name: 1 to 128 bytes, no control characters. */
export function keyName(field: string, value: string): string {
  if (!value) throw new InvalidInputError(field, `${field} is required, e.g. "ci"`);
  return limited(field, value, 128);
}

const ROLE_NAMES: Partial<Record<Role, RoleName>> = {
  [Role.VIEWER]: "viewer",
  [Role.EDITOR]: "editor",
  [Role.MAINTAINER]: "maintainer",
  [Role.OWNER]: "owner",
};

export const ROLE_VALUES: Record<RoleName, Role> = { viewer: Role.VIEWER, editor: Role.EDITOR, maintainer: Role.MAINTAINER, owner: Role.OWNER };

/** A role; unspecified is undefined when `optional`, else refused. */
export function role(field: string, value: Role, optional: boolean): RoleName | undefined {
  if (value === Role.UNSPECIFIED && optional) return undefined;
  const name = ROLE_NAMES[value];
  if (!name) throw new InvalidInputError(field, `${field} must be ROLE_VIEWER, ROLE_EDITOR, ROLE_MAINTAINER or ROLE_OWNER`);
  return name;
}

const SCOPES: Partial<Record<ApiKeyScope, KeyScope>> = {
  [ApiKeyScope.UNSPECIFIED]: "all",
  [ApiKeyScope.ALL]: "all",
  [ApiKeyScope.READ_ONLY]: "read_only",
  [ApiKeyScope.PROJECT]: "project",
  [ApiKeyScope.SCIM]: "scim",
};

export const SCOPE_VALUES: Record<KeyScope, ApiKeyScope> = { all: ApiKeyScope.ALL, read_only: ApiKeyScope.READ_ONLY, project: ApiKeyScope.PROJECT, scim: ApiKeyScope.SCIM };

export function keyScope(field: string, value: ApiKeyScope): KeyScope {
  const scope = SCOPES[value];
  if (!scope) throw new InvalidInputError(field, `${field} must be API_KEY_SCOPE_ALL, _READ_ONLY, _PROJECT or _SCIM`);
  return scope;
}

/** An organisation's name: the rules of dataset names. */
export { datasetName as organizationName } from "./fields.js";
