/** The frame of every signed-in page: navigation, who is signed in, sign-out. */
import { useQuery } from "@connectrpc/connect-query";
import type { ReactNode } from "react";
import { AccessService } from "@gen/traintrack/v1/access_pb.js";
import { Role } from "@gen/traintrack/v1/role_pb.js";
import { type Session, signOut } from "../api/session.js";
import { Link, useLocation } from "../router.js";

const SECTIONS = [
  { to: "/datasets", label: "Datasets" },
  { to: "/projects", label: "Runs" },
  { to: "/models", label: "Models" },
  { to: "/pipelines", label: "Pipelines" },
  { to: "/lineage", label: "Lineage" },
];

export function Shell({ session, onSignedOut, children }: { session: Session; onSignedOut: () => void; children: ReactNode }) {
  const { path } = useLocation();
  const me = useQuery(AccessService.method.whoAmI, {}, { staleTime: 60_000 });
  const isOwner = me.data?.organizationRole === Role.OWNER;
  const sections = isOwner ? [...SECTIONS, { to: "/admin", label: "Admin" }] : SECTIONS;
  return (
    <div className="shell">
      <header className="topbar">
        <Link to="/" className="brand">
          Traintrack
        </Link>
        <nav>
          {sections.map((s) => (
            <Link key={s.to} to={s.to} className={path.startsWith(s.to) ? "active" : undefined}>
              {s.label}
            </Link>
          ))}
        </nav>
        <span className="who" title={`organisation ${me.data?.organization?.name ?? ""}`}>
          {me.data?.user?.displayName || me.data?.user?.userName || ""}
          {me.data?.organization ? <span className="muted"> · {me.data.organization.name}</span> : null}
        </span>
        <button
          type="button"
          className="link-button"
          onClick={() => {
            void signOut(session).finally(onSignedOut);
          }}
        >
          Sign out
        </button>
      </header>
      <main>{children}</main>
    </div>
  );
}
