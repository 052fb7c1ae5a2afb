/**
 * Groups: the organisation's groups (paged); owners create and delete them and
 * add or remove members. The chosen group (?group=…) shows its members.
 */
import { useMutation, useQuery } from "@connectrpc/connect-query";
import { type Group, UserService } from "@gen/traintrack/v1/user_pb.js";
import { useState } from "react";
import { Empty, Loaded } from "../../components/feedback.js";
import { formatTime } from "../../components/format.js";
import { PAGE_SIZE, Pager, usePageToken } from "../../components/pager.js";
import { Link, setQuery, useLocation } from "../../router.js";
import { AdminLayout, Outcome } from "./admin-layout.js";
import { WriteButton, useAllowed, useInvalidate, whyNot } from "./allowed.js";

const WRITES = [UserService.method.createGroup, UserService.method.deleteGroup, UserService.method.addGroupMembers, UserService.method.removeGroupMembers];

export function GroupsPage() {
  const chosen = useLocation().query.get("group") ?? "";
  const pageToken = usePageToken();
  const query = useQuery(UserService.method.listGroups, { pageSize: PAGE_SIZE, pageToken });
  const perms = useAllowed(WRITES);
  const why = whyNot(perms.known);
  const invalidate = useInvalidate();
  const [name, setName] = useState("");
  const create = useMutation(UserService.method.createGroup, { onSuccess: () => (setName(""), invalidate(UserService)) });
  const remove = useMutation(UserService.method.deleteGroup, { onSuccess: () => (setQuery({ group: undefined }), invalidate(UserService)) });
  return (
    <AdminLayout title="Groups">
      <form
        className="admin-form"
        aria-label="Create a group"
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate({ displayName: name });
        }}
      >
        <strong>New group</strong>
        <input placeholder="display name" aria-label="Group name" value={name} onChange={(e) => setName(e.target.value)} disabled={!perms.may(UserService.method.createGroup)} required />
        <WriteButton allowed={perms.may(UserService.method.createGroup)} why={why} type="submit" className="primary">
          Create group
        </WriteButton>
        <Outcome error={create.error} what="create the group" />
      </form>
      <Outcome error={remove.error} what="delete the group" />
      <Loaded query={query} what="list groups">
        {(data) =>
          data.groups.length === 0 ? (
            <Empty title="No groups yet.">Create one above; grants given to a group apply to all its members.</Empty>
          ) : (
            <>
              <table className="grid">
                <thead>
                  <tr>
                    <th>Group</th>
                    <th className="num">Members</th>
                    <th>Created</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {data.groups.map((g) => (
                    <tr key={g.id} data-group={g.displayName} className={g.id === chosen ? "chosen" : undefined}>
                      <td>
                        <Link to={`/admin/groups?group=${encodeURIComponent(g.id)}`}>{g.displayName}</Link>
                        <div className="muted small">{g.id}</div>
                      </td>
                      <td className="num">{g.memberCount}</td>
                      <td>{formatTime(g.createdAt)}</td>
                      <td className="actions">
                        <Link to={`/admin/grants?group=${encodeURIComponent(g.id)}`}>Grants</Link>
                        <WriteButton
                          allowed={perms.may(UserService.method.deleteGroup)}
                          why={why}
                          onClick={() => {
                            if (window.confirm(`Delete the group ${g.displayName} and the grants that name it?`)) remove.mutate({ groupId: g.id });
                          }}
                        >
                          Delete
                        </WriteButton>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager nextPageToken={data.nextPageToken} />
              {chosen ? <Members group={data.groups.find((g) => g.id === chosen)} groupId={chosen} mayAdd={perms.may(UserService.method.addGroupMembers)} mayRemove={perms.may(UserService.method.removeGroupMembers)} why={why} /> : null}
            </>
          )
        }
      </Loaded>
    </AdminLayout>
  );
}

function Members({ group, groupId, mayAdd, mayRemove, why }: { group?: Group; groupId: string; mayAdd: boolean; mayRemove: boolean; why: string }) {
  const pageToken = usePageToken("mpage");
  const members = useQuery(UserService.method.listUsers, { groupId, pageSize: PAGE_SIZE, pageToken, includeInactive: true });
  const invalidate = useInvalidate();
  const [who, setWho] = useState("");
  const lookUp = useMutation(UserService.method.getUser);
  const add = useMutation(UserService.method.addGroupMembers, { onSuccess: () => (setWho(""), invalidate(UserService)) });
  const removeMember = useMutation(UserService.method.removeGroupMembers, { onSuccess: () => invalidate(UserService) });
  return (
    <div className="members">
      <h2>Members of {group?.displayName ?? groupId}</h2>
      <form
        className="admin-form"
        aria-label="Add a member"
        onSubmit={(e) => {
          e.preventDefault();
          // A user id ("u_…") is added as is; anything else is looked up as a user name.
          const found = who.startsWith("u_") ? Promise.resolve(who) : lookUp.mutateAsync({ userName: who }).then((r) => r.user?.id ?? "");
          void found.then((id) => add.mutate({ groupId, userIds: [id] }), () => undefined);
        }}
      >
        <input placeholder="user name or id" aria-label="Member to add" value={who} onChange={(e) => setWho(e.target.value)} disabled={!mayAdd} required />
        <WriteButton allowed={mayAdd} why={why} type="submit">
          Add member
        </WriteButton>
        <Outcome error={lookUp.error ?? add.error} what="add the member" />
      </form>
      <Outcome error={removeMember.error} what="remove the member" />
      <Loaded query={members} what="list the group's members">
        {(data) =>
          data.users.length === 0 ? (
            <Empty title="This group has no members.">Add one by user name above.</Empty>
          ) : (
            <>
              <table className="grid">
                <tbody>
                  {data.users.map((u) => (
                    <tr key={u.id} data-member={u.userName}>
                      <td>
                        <code>{u.userName}</code> <span className="muted">{u.displayName}</span>
                      </td>
                      <td className="actions">
                        <WriteButton allowed={mayRemove} why={why} onClick={() => removeMember.mutate({ groupId, userIds: [u.id] })}>
                          Remove
                        </WriteButton>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <Pager nextPageToken={data.nextPageToken} param="mpage" />
            </>
          )
        }
      </Loaded>
    </div>
  );
}
