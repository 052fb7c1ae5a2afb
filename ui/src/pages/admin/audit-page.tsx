/**
 * The audit log: every write and access-control change, newest first,
 * filtered by time, user, key and resource (a prefix when it ends in "/"),
 * every filter in the URL so that a finding can be shared. Owners only.
 */
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { useQuery } from "@connectrpc/connect-query";
import { AuditService } from "@gen/traintrack/v1/audit_pb.js";
import { Empty, Loaded } from "../../components/feedback.js";
import { formatTime } from "../../components/format.js";
import { PAGE_SIZE, Pager, usePageToken } from "../../components/pager.js";
import { setQuery, useLocation } from "../../router.js";
import { AdminLayout } from "./admin-layout.js";
import { useAllowed } from "./allowed.js";
import { UserLabel } from "./grants-page.js";

/** A date input's "2026-12-04" as the start of that day, local time. */
function dayStart(day: string, plusDays = 0) {
  if (!day) return undefined;
  const d = new Date(`${day}T00:00:00`);
  d.setDate(d.getDate() + plusDays);
  return timestampFromDate(d);
}

export function AuditPage() {
  const q = useLocation().query;
  const f = { since: q.get("since") ?? "", until: q.get("until") ?? "", userId: q.get("user") ?? "", keyId: q.get("key") ?? "", resource: q.get("resource") ?? "" };
  const pageToken = usePageToken();
  const perms = useAllowed([AuditService.method.listAuditEvents]);
  const mayRead = perms.may(AuditService.method.listAuditEvents);
  const query = useQuery(
    AuditService.method.listAuditEvents,
    // "until" is the last day shown, so the bound is the start of the day after.
    { since: dayStart(f.since), until: dayStart(f.until, 1), userId: f.userId, keyId: f.keyId, resource: f.resource, pageSize: PAGE_SIZE, pageToken },
    { enabled: mayRead },
  );
  const filter = (param: string) => (e: { target: { value: string } }) => setQuery({ [param]: e.target.value.trim(), page: undefined });
  return (
    <AdminLayout title="Audit log">
      <div className="filters">
        <label className="inline">
          from <input type="date" aria-label="From day" defaultValue={f.since} onChange={filter("since")} />
        </label>
        <label className="inline">
          to <input type="date" aria-label="To day" defaultValue={f.until} onChange={filter("until")} />
        </label>
        <input className="filter" placeholder="user id" aria-label="Filter by user id" defaultValue={f.userId} onChange={filter("user")} />
        <input className="filter" placeholder="key id" aria-label="Filter by key id" defaultValue={f.keyId} onChange={filter("key")} />
        <input className="filter" placeholder='resource, e.g. key/ or run/r_…' aria-label="Filter by resource" defaultValue={f.resource} onChange={filter("resource")} />
      </div>
      {!perms.known ? null : !mayRead ? (
        <Empty title="Only owners read the audit log.">Ask an owner of the organisation.</Empty>
      ) : (
        <Loaded query={query} what="read the audit log">
          {(data) =>
            data.events.length === 0 ? (
              <Empty title="No events match.">Every write and access change is recorded here: widen the filters, or make a change.</Empty>
            ) : (
              <>
                <table className="grid audit">
                  <thead>
                    <tr>
                      <th>Time</th>
                      <th>Who</th>
                      <th>Method</th>
                      <th>Resource</th>
                      <th>Outcome</th>
                      <th>From</th>
                      <th>Request</th>
                    </tr>
                  </thead>
                  <tbody>
                    {data.events.map((e) => (
                      <tr key={e.id} data-method={e.method} data-resource={e.resource}>
                        <td>{formatTime(e.time)}</td>
                        <td>
                          {e.userId ? <UserLabel id={e.userId} /> : <span className="muted">unauthenticated</span>}
                          {e.keyId ? <div className="muted small">key {e.keyId}</div> : null}
                        </td>
                        <td>
                          <code>{e.method.replace(/^traintrack\.v1\./, "")}</code>
                        </td>
                        <td>
                          <code>{e.resource}</code>
                        </td>
                        <td>
                          <span className={`status ${e.outcome === "ok" ? "succeeded" : "failed"}`}>{e.outcome}</span>
                        </td>
                        <td className="muted">{e.source}</td>
                        <td className="muted small">{e.requestId}</td>
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
