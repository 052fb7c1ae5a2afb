/** The frame of the administration pages: one tab per kind of thing an owner manages. */
import type { ReactNode } from "react";
import { ErrorBox } from "../../components/feedback.js";
import { Link, useLocation } from "../../router.js";
import "./admin.css";

const TABS = [
  { to: "/admin/users", label: "Users" },
  { to: "/admin/groups", label: "Groups" },
  { to: "/admin/grants", label: "Grants" },
  { to: "/admin/keys", label: "API keys" },
  { to: "/admin/audit", label: "Audit log" },
];

export function AdminLayout({ title, actions, children }: { title: string; actions?: ReactNode; children: ReactNode }) {
  const { path } = useLocation();
  return (
    <section className="admin">
      <div className="crumbs">Administration</div>
      <nav className="tabs">
        {TABS.map((t) => (
          <Link key={t.to} to={t.to} className={path.startsWith(t.to) ? "active" : undefined}>
            {t.label}
          </Link>
        ))}
      </nav>
      <div className="page-head">
        <h1>{title}</h1>
        {actions}
      </div>
      {children}
    </section>
  );
}

/** What a write answered: an error that says what to do, or a short note of what was done. */
export function Outcome({ error, done, what }: { error: unknown; done?: string; what: string }) {
  if (error) return <ErrorBox error={error} what={what} />;
  return done ? (
    <div className="notice" role="status">
      {done}
    </div>
  ) : null;
}
