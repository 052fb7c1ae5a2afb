import { useEffect } from "react";
import { type Route, navigate } from "../../router.js";
import { AuditPage } from "./audit-page.js";
import { GrantsPage } from "./grants-page.js";
import { GroupsPage } from "./groups-page.js";
import { KeysPage } from "./keys-page.js";
import { UsersPage } from "./users-page.js";

/** /admin has no page of its own: it is the users page. */
function ToUsers() {
  useEffect(() => navigate("/admin/users", { replace: true }), []);
  return null;
}

export const adminRoutes: Route[] = [
  { path: "/admin", render: () => <ToUsers /> },
  { path: "/admin/users", render: () => <UsersPage /> },
  { path: "/admin/groups", render: () => <GroupsPage /> },
  { path: "/admin/grants", render: () => <GrantsPage /> },
  { path: "/admin/keys", render: () => <KeysPage /> },
  { path: "/admin/audit", render: () => <AuditPage /> },
];
