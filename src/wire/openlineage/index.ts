/**
 * OpenLineage intake on the API's port: POST /api/v1/lineage, the path
 * OpenLineage's HTTP transport and Marquez use. One RunEvent per request,
 * authenticated with an API key as `authorization: Bearer <key>`; every
 * event is in the audit log. The mapping to pipelines is in
 * services/pipelines/openlineage.ts.
 */
import { randomUUID } from "node:crypto";
import { PermissionDeniedError } from "../../services/errors.js";
import { type AuditLog, type Authenticator, effectiveRole, includes, type Principal } from "../../services/identity/index.js";
import type { OpenLineageIntake } from "../../services/pipelines/openlineage-intake.js";
import { bearerKey } from "../interceptors/auth.js";
import { HttpError, readJsonBody, type Request, type Response, sendJson } from "../json-http.js";
import { errorAnswer } from "./http.js";

export const OPENLINEAGE_PATH = "/api/v1/lineage";
/** Bodies larger than this are refused (413): an event with a thousand datasets and their schemas fits. */
export const MAX_EVENT_BYTES = 1024 * 1024;
const NOT_JSON = new HttpError(400, "the request body is not JSON: send one OpenLineage RunEvent as a JSON object");

export interface OpenLineageDeps {
  authenticator: Pick<Authenticator, "authenticate">;
  intake: Pick<OpenLineageIntake, "record">;
  audit: Pick<AuditLog, "record">;
  /** Errors answered 500: the cause, which the client never sees. */
  logInternal: (error: unknown, requestId: string) => void;
}

const OUTCOMES: Record<number, string> = { 400: "invalid_argument", 401: "unauthenticated", 403: "permission_denied", 404: "not_found", 409: "failed_precondition", 413: "resource_exhausted", 415: "invalid_argument", 422: "resource_exhausted", 503: "unavailable" };

/**
 * The editor role on the organisation. An OpenLineage event names no project
 * (its pipelines are created outside any project, and may write into any
 * pipeline of the organisation by name), so a project grant or a project key
 * cannot vouch for it; read-only and SCIM keys hold no editor role anywhere.
 */
function mayRecord(p: Principal): void {
  if (!p.orgId) throw new PermissionDeniedError("TRAINTRACK_ADMIN_KEY belongs to no organisation: send OpenLineage events with a key of a user of the organisation");
  if (!includes(effectiveRole(p, undefined), "editor")) {
    throw new PermissionDeniedError("OpenLineage events need a key (of scope all) holding the editor role on the organisation: their pipelines belong to no project");
  }
}

export function createOpenLineageHandler(deps: OpenLineageDeps) {
  /** Serves one request to OPENLINEAGE_PATH. */
  return async function handle(req: Request, res: Response, source: string): Promise<void> {
    const requestId = randomUUID();
    const method = (req.method ?? "GET").toUpperCase();
    let principal: Principal | undefined;
    let answer: { status: number; body?: unknown };
    let resource = "";
    try {
      if (method !== "POST") throw new HttpError(405, `${OPENLINEAGE_PATH} takes POST: one OpenLineage RunEvent as JSON`);
      principal = await deps.authenticator.authenticate(bearerKey(String(req.headers.authorization ?? "")), source);
      mayRecord(principal);
      const { pipelineRunId } = await deps.intake.record(principal.orgId, await readJsonBody(req, { maxBytes: MAX_EVENT_BYTES, gzip: true, notJson: NOT_JSON }));
      resource = `pipeline-run/${pipelineRunId}`;
      // As Marquez answers: openlineage-python's HttpTransport checks the status only.
      answer = { status: 201 };
    } catch (error) {
      answer = errorAnswer(error, requestId);
      if (answer.status === 500) deps.logInternal(error, requestId);
    }
    // Written before the answer, as for gRPC calls: no write goes unrecorded.
    if (principal) {
      const call = {
        method: `OpenLineage POST ${OPENLINEAGE_PATH}`,
        resource,
        source,
        outcome: answer.status < 300 ? "ok" : (OUTCOMES[answer.status] ?? "internal"),
        requestId,
      };
      await deps.audit.record(principal, call).catch((error: unknown) => {
        // Unrecorded, the write must not look like a success.
        answer = errorAnswer(error, requestId);
      });
    }
    const headers: Record<string, string> = { "x-request-id": requestId };
    if (answer.status === 401) headers["www-authenticate"] = 'Bearer realm="traintrack"';
    if (answer.status === 405) headers.allow = "POST";
    sendJson(res, answer.status, answer.body, headers);
  };
}
