/** Users: every user and service account of the organisation (paged); owners create and deactivate them. */
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { Role } from "@gen/traintrack/v1/role_pb.js";
import { type User, UserService } from "@gen/traintrack/v1/user_pb.js";
import { useState } from "react";
import { Empty, Loaded } from "../../components/feedback.js";
import { formatTime } from "../../components/format.js";
import { PAGE_SIZE, Pager, usePageToken } from "../../components/pager.js";
import { Link, setQuery, useLocation } from "../../router.js";
import { AdminLayout, Outcome } from "./admin-layout.js";
import { WriteButton, useAllowed, useInvalidate, whyNot } from "./allowed.js";
import { GRANTABLE, ROLE_NAMES } from "./roles.js";

export function UsersPage() {
  const includeInactive = useLocation().query.get("inactive") === "1";
  const pageToken = usePageToken();
  const query = useQuery(UserService.method.listUsers, { pageSize: PAGE_SIZE, pageToken, includeInactive });
  const perms = useAllowed([UserService.method.createUser, UserService.method.deactivateUser]);
  const invalidate = useInvalidate();
  const deactivate = useMutation(UserService.method.deactivateUser, { onSuccess: () => invalidate(UserService) });
  return (
    <AdminLayout title="Users">
      <CreateUserForm allowed={perms.may(UserService.method.createUser)} why={whyNot(perms.known)} />
      <label className="inline">
        <input type="checkbox" checked={includeInactive} onChange={(e) => setQuery({ inactive: e.target.checked ? "1" : undefined, page: undefined })} />
        Show deactivated users
      </label>
      <Outcome
        error={deactivate.error}
        what="deactivate the user"
        done={deactivate.data ? `Deactivated ${deactivate.data.user?.userName}: ${deactivate.data.keysDisabled} key(s) stopped working.` : undefined}
      />
      <Loaded query={query} what="list users">
        {(data) =>
          data.users.length === 0 ? (
            <Empty title="No users yet.">Create one above, then give it a role under Grants and a key under API keys.</Empty>
          ) : (
            <>
              <table className="grid">
                <thead>
                  <tr>
                    <th>User name</th>
                    <th>Display name</th>
                    <th>Email</th>
                    <th>Kind</th>
                    <th>Status</th>
                    <th>Created</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {data.users.map((u) => (
                    <UserRow
                      key={u.id}
                      user={u}
                      mayDeactivate={perms.may(UserService.method.deactivateUser)}
                      why={whyNot(perms.known)}
                      onDeactivate={() => deactivate.mutate({ id: u.id })}
                    />
                  ))}
                </tbody>
              </table>
              <Pager nextPageToken={data.nextPageToken} />
            </>
          )
        }
      </Loaded>
    </AdminLayout>
  );
}

function UserRow({ user, mayDeactivate, why, onDeactivate }: { user: User; mayDeactivate: boolean; why: string; onDeactivate: () => void }) {
  return (
    <tr data-user={user.userName}>
      <td>
        <code>{user.userName}</code>
        <div className="muted small">{user.id}</div>
      </td>
      <td>{user.displayName}</td>
      <td>{user.email}</td>
      <td>{user.serviceAccount ? "service account" : "person"}</td>
      <td>
        <span className={`status ${user.active ? "succeeded" : "killed"}`}>{user.active ? "active" : "deactivated"}</span>
      </td>
      <td>{formatTime(user.createdAt)}</td>
      <td className="actions">
        <Link to={`/admin/keys?user=${encodeURIComponent(user.id)}`}>Keys</Link>
        <Link to={`/admin/grants?user=${encodeURIComponent(user.id)}`}>Grants</Link>
        {user.active ? (
          <WriteButton
            allowed={mayDeactivate}
            why={why}
            onClick={() => {
              if (window.confirm(`Deactivate ${user.userName}? Every key of the user stops working at once.`)) onDeactivate();
            }}
          >
            Deactivate
          </WriteButton>
        ) : null}
      </td>
    </tr>
  );
}

function CreateUserForm({ allowed, why }: { allowed: boolean; why: string }) {
  const [userName, setUserName] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>(Role.VIEWER);
  const invalidate = useInvalidate();
  const create = useMutation(UserService.method.createUser, {
    onSuccess: () => {
      setUserName("");
      setDisplayName("");
      setEmail("");
      return invalidate(UserService);
    },
  });
  return (
    <form
      className="admin-form"
      aria-label="Create a user"
      onSubmit={(e) => {
        e.preventDefault();
        create.mutate({ userName, displayName, email, role });
      }}
    >
      <strong>New user</strong>
      <input placeholder="user name" aria-label="User name" value={userName} onChange={(e) => setUserName(e.target.value)} disabled={!allowed} required />
      <input placeholder="display name" aria-label="Display name" value={displayName} onChange={(e) => setDisplayName(e.target.value)} disabled={!allowed} />
      <input placeholder="email" aria-label="Email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} disabled={!allowed} />
      <select aria-label="Role on the organisation" value={role} onChange={(e) => setRole(Number(e.target.value) as Role)} disabled={!allowed}>
        <option value={Role.UNSPECIFIED}>no role</option>
        {GRANTABLE.map((r) => (
          <option key={r} value={r}>
            {ROLE_NAMES[r]}
          </option>
        ))}
      </select>
      <WriteButton allowed={allowed} why={why} type="submit" className="primary" disabled={create.isPending}>
        Create user
      </WriteButton>
      <Outcome error={create.error} what="create the user" done={create.data ? `Created ${create.data.user?.userName} (${create.data.user?.id}).` : undefined} />
    </form>
  );
}
