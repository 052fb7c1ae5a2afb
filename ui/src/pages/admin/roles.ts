/** Roles as people read them, and the choices a form offers. */
import { Role } from "@gen/traintrack/v1/role_pb.js";

export const ROLE_NAMES: Record<Role, string> = {
  [Role.UNSPECIFIED]: "none",
  [Role.VIEWER]: "viewer",
  [Role.EDITOR]: "editor",
  [Role.MAINTAINER]: "maintainer",
  [Role.OWNER]: "owner",
};

export const GRANTABLE: Role[] = [Role.VIEWER, Role.EDITOR, Role.MAINTAINER, Role.OWNER];
