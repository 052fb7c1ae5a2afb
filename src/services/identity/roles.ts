/**
 * Roles and what a caller holds. A role includes every role before it:
 * viewer < editor < maintainer < owner. A principal's role on a project is the
 * highest of its grants there and on the organisation (project grants add,
 * never remove); a key's scope then caps it.
 */
import type { KeyScope, Role } from "../../db/schema.js";

export type { KeyScope, Role } from "../../db/schema.js";

export const ROLES: readonly Role[] = ["viewer", "editor", "maintainer", "owner"];

const RANK: Record<Role, number> = { viewer: 1, editor: 2, maintainer: 3, owner: 4 };

/** Whether `held` includes `needed`; no role includes nothing. */
export function includes(held: Role | undefined, needed: Role): boolean {
  return held !== undefined && RANK[held] >= RANK[needed];
}

export function higher(a: Role | undefined, b: Role | undefined): Role | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return RANK[a] >= RANK[b] ? a : b;
}

/** Who is calling, as the auth interceptor established it. Every read and write is scoped to `orgId`. */
export interface Principal {
  /** "" only for TRAINTRACK_ADMIN_KEY, which belongs to no organisation and may only manage organisations. */
  orgId: string;
  /** The user or service account; "" for TRAINTRACK_ADMIN_KEY. */
  userId: string;
  keyId: string;
  instanceAdmin: boolean;
  keyScope: KeyScope;
  /** With keyScope "project": the project (id) the key is limited to. */
  keyProjectId: string | null;
  /** The highest organisation grant of the user and its groups. */
  orgRole: Role | undefined;
  /** Project id → the highest project grant (not counting the organisation's). */
  projectRoles: ReadonlyMap<string, Role>;
}

/**
 * The caller's role on a project (an id) or, with `projectId` undefined, on the
 * organisation, after its key's scope: read-only keys read, project keys reach
 * one project, SCIM keys no RPC at all.
 */
export function effectiveRole(p: Principal, projectId: string | undefined): Role | undefined {
  if (p.keyScope === "scim") return undefined;
  if (p.keyScope === "project" && (projectId === undefined || projectId !== p.keyProjectId)) return undefined;
  let role = projectId === undefined ? p.orgRole : higher(p.orgRole, p.projectRoles.get(projectId));
  // Owner is an organisation role: on a project it means maintainer.
  if (projectId !== undefined && role === "owner") role = "maintainer";
  if (p.keyScope === "read_only" && role !== undefined) role = "viewer";
  return role;
}

/** The highest role the caller holds anywhere (organisation or some project), after the key's scope. */
export function highestRole(p: Principal): Role | undefined {
  let best = effectiveRole(p, undefined);
  for (const projectId of p.projectRoles.keys()) best = higher(best, effectiveRole(p, projectId));
  if (p.keyScope === "project" && p.keyProjectId) best = higher(best, effectiveRole(p, p.keyProjectId));
  return best;
}

/**
 * The projects (ids) whose contents the caller may read, for lists that span
 * projects; undefined when it reads the whole organisation.
 */
export function readableProjects(p: Principal): string[] | undefined {
  if (includes(effectiveRole(p, undefined), "viewer")) return undefined;
  const ids = [...p.projectRoles.keys(), ...(p.keyProjectId ? [p.keyProjectId] : [])];
  return [...new Set(ids)].filter((id) => includes(effectiveRole(p, id), "viewer"));
}
