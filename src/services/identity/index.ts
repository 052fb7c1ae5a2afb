/**
 * Identity and access: organisations, users and groups, grants of roles, API
 * keys, the audit log, and what a presented key may do. The capability's only
 * door: the wire layer and the composition root import from here.
 */
export { type AuditedCall, createAuditLog, type AuditLog, type AuditRow } from "./audit.js";
export { createAuthenticator, type Authenticator, hashKey } from "./authenticator.js";
export { createFailureLimiter, type FailureLimiter } from "./failure-limiter.js";
export { createGrantService, type GrantRow, type GrantService, type GrantSpec } from "./grants.js";
export { createKeyService, generateSecret, type KeyRow, type KeyService, type KeySpec } from "./keys.js";
export { type CreatedOrganization, createOrganizationService, type OrganizationRow, type OrganizationService } from "./organizations.js";
export { effectiveRole, highestRole, includes, type KeyScope, type Principal, readableProjects, type Role, ROLES } from "./roles.js";
export { createScopeResolver, type ScopeResolver } from "./scopes.js";
export { createUserDirectory, type GroupRow, MAX_MEMBERS_PER_CALL, type NewUser, type UserDirectory, type UserRow } from "./users.js";
export { createSessionService, MAX_SESSIONS_PER_KEY, type SessionService, type SessionView } from "./sessions.js";
