/**
 * API keys: every key of the organisation, or one user's (?user=…), newest
 * first, with revoked ones on request; owners create keys (the secret shown
 * once) and revoke them.
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { type ApiKey, ApiKeyScope, ApiKeyService } from "@gen/traintrack/v1/api_key_pb.js";
import { UserService } from "@gen/traintrack/v1/user_pb.js";
import { useState } from "react";
import { Empty, Loaded } from "../../components/feedback.js";
import { formatTime } from "../../components/format.js";
import { PAGE_SIZE, Pager, usePageToken } from "../../components/pager.js";
import { setQuery, useLocation } from "../../router.js";
import { AdminLayout, Outcome } from "./admin-layout.js";
import { WriteButton, useAllowed, useInvalidate, whyNot } from "./allowed.js";
import { UserLabel } from "./grants-page.js";
import { SecretDialog } from "./secret-dialog.js";

const SCOPES: { scope: ApiKeyScope; label: string }[] = [
  { scope: ApiKeyScope.ALL, label: "everything the user may do" },
  { scope: ApiKeyScope.READ_ONLY, label: "read only" },
  { scope: ApiKeyScope.PROJECT, label: "one project" },
  { scope: ApiKeyScope.SCIM, label: "SCIM provisioning" },
];
const SCOPE_NAMES = new Map(SCOPES.map((s) => [s.scope, s.label]));

export function KeysPage() {
  const q = useLocation().query;
  const userId = q.get("user") ?? "";
  const includeRevoked = q.get("revoked") === "1";
  const pageToken = usePageToken();
  // TestPermissions answers for the caller's own keys; another user's keys (and all of them) need an owner,
  // which CreateUser (owners only) stands for here.
  const perms = useAllowed([UserService.method.createUser, ApiKeyService.method.createApiKey, ApiKeyService.method.revokeApiKey]);
  const owner = perms.may(UserService.method.createUser);
  const query = useQuery(
    ApiKeyService.method.listApiKeys,
    { userId: owner ? userId : "", allUsers: owner && !userId, includeRevoked, pageSize: PAGE_SIZE, pageToken },
    { enabled: perms.known },
  );
  const why = whyNot(perms.known);
  const mayRevoke = owner && perms.may(ApiKeyService.method.revokeApiKey);
  const invalidate = useInvalidate();
  const revoke = useMutation(ApiKeyService.method.revokeApiKey, { onSuccess: () => invalidate(ApiKeyService) });
  return (
    <AdminLayout title="API keys">
      <CreateKeyForm allowed={owner && perms.may(ApiKeyService.method.createApiKey)} why={why} forUser={userId} />
      <div className="filters">
        <input
          className="filter"
          placeholder="user id (empty: every user)"
          aria-label="Filter by user id"
          defaultValue={userId}
          onChange={(e) => setQuery({ user: e.target.value.trim(), page: undefined })}
          disabled={!owner}
        />
        <label className="inline">
          <input type="checkbox" checked={includeRevoked} onChange={(e) => setQuery({ revoked: e.target.checked ? "1" : undefined, page: undefined })} />
          Show revoked keys
        </label>
        {perms.known && !owner ? <span className="muted">Your own keys: the organisation's keys are managed by owners.</span> : null}
      </div>
      <Outcome error={revoke.error} what="revoke the key" done={revoke.data ? `Revoked “${revoke.data.key?.name}”: it no longer works.` : undefined} />
      {!perms.known ? null : (
        <Loaded query={query} what="list API keys">
          {(data) =>
            data.keys.length === 0 ? (
              <Empty title="No keys match.">Create one above: its secret is shown once, to copy into the SDK or CI.</Empty>
            ) : (
              <>
                <table className="grid">
                  <thead>
                    <tr>
                      <th>Name</th>
                      <th>Prefix</th>
                      <th>User</th>
                      <th>Scope</th>
                      <th>Created</th>
                      <th>Last used</th>
                      <th>Expires</th>
                      <th>Status</th>
                      <th />
                    </tr>
                  </thead>
                  <tbody>
                    {data.keys.map((k) => (
                      <KeyRow key={k.id} k={k} mayRevoke={mayRevoke} why={why} onRevoke={() => revoke.mutate({ id: k.id })} />
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

function KeyRow({ k, mayRevoke, why, onRevoke }: { k: ApiKey; mayRevoke: boolean; why: string; onRevoke: () => void }) {
  const revoked = k.revokedAt !== undefined;
  return (
    <tr data-key={k.name} data-key-id={k.id}>
      <td>{k.name}</td>
      <td>
        <code>{k.prefix}…</code>
      </td>
      <td>
        <UserLabel id={k.userId} />
      </td>
      <td>
        {SCOPE_NAMES.get(k.scope) ?? "everything the user may do"}
        {k.project ? `: ${k.project}` : ""}
      </td>
      <td>{formatTime(k.createdAt)}</td>
      <td>{k.lastUsedAt ? formatTime(k.lastUsedAt) : <span className="muted">never</span>}</td>
      <td>{k.expiresAt ? formatTime(k.expiresAt) : <span className="muted">never</span>}</td>
      <td>
        <span className={`status ${revoked ? "killed" : "succeeded"}`}>{revoked ? `revoked ${formatTime(k.revokedAt)}` : "active"}</span>
      </td>
      <td className="actions">
        {revoked ? null : (
          <WriteButton
            allowed={mayRevoke}
            why={why}
            onClick={() => {
              if (window.confirm(`Revoke the key “${k.name}”? Everything using it stops working at once.`)) onRevoke();
            }}
          >
            Revoke
          </WriteButton>
        )}
      </td>
    </tr>
  );
}

function CreateKeyForm({ allowed, why, forUser }: { allowed: boolean; why: string; forUser: string }) {
  const [name, setName] = useState("");
  const [user, setUser] = useState(forUser);
  const [scope, setScope] = useState<ApiKeyScope>(ApiKeyScope.ALL);
  const [project, setProject] = useState("");
  const [expires, setExpires] = useState("");
  const invalidate = useInvalidate();
  const lookUp = useMutation(UserService.method.getUser);
  const create = useMutation(ApiKeyService.method.createApiKey, { onSuccess: () => (setName(""), invalidate(ApiKeyService)) });
  return (
    <>
      <form
        className="admin-form"
        aria-label="Create an API key"
        onSubmit={(e) => {
          e.preventDefault();
          // Empty: the caller's own key; "u_…" as is; anything else is a user name to look up.
          const id = !user || user.startsWith("u_") ? Promise.resolve(user) : lookUp.mutateAsync({ userName: user }).then((r) => r.user?.id ?? "");
          void id.then(
            (userId) =>
              create.mutate({
                name,
                userId,
                scope,
                project: scope === ApiKeyScope.PROJECT ? project : "",
                expiresAt: expires ? timestampFromDate(new Date(`${expires}T23:59:59`)) : undefined,
              }),
            () => undefined,
          );
        }}
      >
        <strong>New key</strong>
        <input placeholder="name, e.g. ci-training" aria-label="Key name" value={name} onChange={(e) => setName(e.target.value)} disabled={!allowed} required />
        <input placeholder="for user (empty: you)" aria-label="Key for user" value={user} onChange={(e) => setUser(e.target.value)} disabled={!allowed} />
        <select aria-label="Scope" value={scope} onChange={(e) => setScope(Number(e.target.value) as ApiKeyScope)} disabled={!allowed}>
          {SCOPES.map((s) => (
            <option key={s.scope} value={s.scope}>
              {s.label}
            </option>
          ))}
        </select>
        {scope === ApiKeyScope.PROJECT ? <input placeholder="project" aria-label="Key project" value={project} onChange={(e) => setProject(e.target.value)} required /> : null}
        <label className="inline">
          expires
          <input type="date" aria-label="Expires on" value={expires} onChange={(e) => setExpires(e.target.value)} disabled={!allowed} />
        </label>
        <WriteButton allowed={allowed} why={why} type="submit" className="primary" disabled={create.isPending}>
          Create key
        </WriteButton>
        <Outcome error={lookUp.error ?? create.error} what="create the key" />
      </form>
      {create.data ? <SecretDialog name={create.data.key?.name ?? ""} secret={create.data.secret} onClose={() => create.reset()} /> : null}
    </>
  );
}
