/**
 * Grants: who holds which role on the organisation or on a project, filtered
 * by user, group or project (?user=…, ?group=…, ?project=…); maintainers and
 * owners grant and revoke roles. Nobody grants more than they hold: the
 * server refuses, and the error says so.
 */
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { AccessService } from "@gen/traintrack/v1/access_pb.js";
import { Role } from "@gen/traintrack/v1/role_pb.js";
import { UserService } from "@gen/traintrack/v1/user_pb.js";
import { useState } from "react";
import { Empty, Loaded } from "../../components/feedback.js";
import { formatTime } from "../../components/format.js";
import { PAGE_SIZE, Pager, usePageToken } from "../../components/pager.js";
import { setQuery, useLocation } from "../../router.js";
import { AdminLayout, Outcome } from "./admin-layout.js";
import { WriteButton, useAllowed, useInvalidate, whyNot } from "./allowed.js";
import { GRANTABLE, ROLE_NAMES } from "./roles.js";

export function GrantsPage() {
  const q = useLocation().query;
  const filter = { userId: q.get("user") ?? "", groupId: q.get("group") ?? "", project: q.get("project") ?? "" };
  const pageToken = usePageToken();
  const perms = useAllowed([AccessService.method.listGrants, AccessService.method.grantRole, AccessService.method.revokeRole]);
  const mayList = perms.may(AccessService.method.listGrants);
  // Listing grants needs a maintainer: ask only once the answer says so, rather than collect a refusal.
  const query = useQuery(AccessService.method.listGrants, { ...filter, pageSize: PAGE_SIZE, pageToken }, { enabled: mayList });
  const invalidate = useInvalidate();
  const revoke = useMutation(AccessService.method.revokeRole, { onSuccess: () => invalidate(AccessService) });
  const why = whyNot(perms.known, "maintainer");
  return (
    <AdminLayout title="Grants">
      <GrantForm allowed={perms.may(AccessService.method.grantRole)} why={why} initial={filter} />
      <div className="filters">
        <span className="muted">Filter:</span>
        <FilterBox label="User id" param="user" value={filter.userId} />
        <FilterBox label="Group id" param="group" value={filter.groupId} />
        <FilterBox label="Project" param="project" value={filter.project} />
      </div>
      <Outcome error={revoke.error} what="revoke the grant" />
      {!perms.known ? null : !mayList ? (
        <Empty title="Your role cannot list grants.">Grants are managed by maintainers and owners of the organisation.</Empty>
      ) : (
        <Loaded query={query} what="list grants">
          {(data) =>
            data.grants.length === 0 ? (
              <Empty title="No grants match.">Grant a role above: to a user or a group, on the organisation or on one project.</Empty>
            ) : (
              <>
                <table className="grid">
                  <thead>
                    <tr>
                      <th>Role</th>
                      <th>To</th>
                      <th>On</th>
                      <th>Since</th>
                      <th />
                    </tr>
                  </thead>
                  <tbody>
                    {data.grants.map((g) => (
                      <tr key={g.id} data-grant={g.id}>
                        <td>{ROLE_NAMES[g.role]}</td>
                        <td>{g.userId ? <UserLabel id={g.userId} /> : <span>group {g.groupId}</span>}</td>
                        <td>{g.project ? `project ${g.project}` : "the organisation"}</td>
                        <td>{formatTime(g.createdAt)}</td>
                        <td className="actions">
                          <WriteButton allowed={perms.may(AccessService.method.revokeRole)} why={why} onClick={() => revoke.mutate({ grantId: g.id })}>
                            Revoke
                          </WriteButton>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
                <Pager nextPageToken={data.nextPageToken} />
              </>
            )
          }
        </Loaded>
      )}
    </AdminLayout>
  );
}

/** A user shown by user name (one cached look-up per user). */
export function UserLabel({ id }: { id: string }) {
  const { data } = useQuery(UserService.method.getUser, { id }, { staleTime: 300_000 });
  return (
    <span title={id}>
      user <code>{data?.user?.userName ?? id}</code>
    </span>
  );
}

function FilterBox({ label, param, value }: { label: string; param: string; value: string }) {
  return <input className="filter" placeholder={label} aria-label={`Filter by ${label}`} defaultValue={value} onChange={(e) => setQuery({ [param]: e.target.value.trim(), page: undefined })} />;
}

function GrantForm({ allowed, why, initial }: { allowed: boolean; why: string; initial: { userId: string; groupId: string; project: string } }) {
  const [kind, setKind] = useState<"user" | "group">(initial.groupId ? "group" : "user");
  const [who, setWho] = useState(initial.groupId || initial.userId);
  const [role, setRole] = useState<Role>(Role.VIEWER);
  const [project, setProject] = useState(initial.project);
  const invalidate = useInvalidate();
  const lookUp = useMutation(UserService.method.getUser);
  const grant = useMutation(AccessService.method.grantRole, { onSuccess: () => invalidate(AccessService) });
  return (
    <form
      className="admin-form"
      aria-label="Grant a role"
      onSubmit={(e) => {
        e.preventDefault();
        if (kind === "group") return grant.mutate({ role, groupId: who, project });
        // A user id ("u_…") is used as is; anything else is looked up as a user name.
        const id = who.startsWith("u_") ? Promise.resolve(who) : lookUp.mutateAsync({ userName: who }).then((r) => r.user?.id ?? "");
        void id.then((userId) => grant.mutate({ role, userId, project }), () => undefined);
      }}
    >
      <strong>Grant</strong>
      <select aria-label="Role" value={role} onChange={(e) => setRole(Number(e.target.value) as Role)} disabled={!allowed}>
        {GRANTABLE.map((r) => (
          <option key={r} value={r}>
            {ROLE_NAMES[r]}
          </option>
        ))}
      </select>
      <span>to</span>
      <select aria-label="Principal kind" value={kind} onChange={(e) => setKind(e.target.value as "user" | "group")} disabled={!allowed}>
        <option value="user">user</option>
        <option value="group">group</option>
      </select>
      <input placeholder={kind === "user" ? "user name or id" : "group id (g_…)"} aria-label="Principal" value={who} onChange={(e) => setWho(e.target.value)} disabled={!allowed} required />
      <span>on</span>
      <input placeholder="project (empty: the organisation)" aria-label="Project" value={project} onChange={(e) => setProject(e.target.value)} disabled={!allowed} />
      <WriteButton allowed={allowed} why={why} type="submit" className="primary">
        Grant role
      </WriteButton>
      <Outcome error={lookUp.error ?? grant.error} what="grant the role" done={grant.data ? `Granted (${grant.data.grant?.id}).` : undefined} />
    </form>
  );
}
