/**
 * Aliases of a model's versions, and their history. Every move (create,
 * move, delete) appends one row in the same transaction as the move, under a
 * lock on the model's row, so concurrent moves are serialised and none is
 * lost: each row's from_version is the previous row's to_version. A
 * protected alias is moved, deleted or unprotected only by a maintainer of
 * the model (of its project, or of the organisation for a model without one).
 */
import type { Kysely } from "kysely";
import * as aliases from "../../db/model-aliases-repo.js";
import type { AliasMoveRow } from "../../db/model-aliases-repo.js";
import * as repo from "../../db/models-repo.js";
import type { Database } from "../../db/schema.js";
import { LimitExceededError, NotFoundError, PermissionDeniedError } from "../errors.js";
import { newId } from "../ids.js";
import { effectiveRole, includes, type Principal } from "../identity/index.js";
import { decodeToken, isSafeInt, type Page, pageOf } from "../page-tokens.js";
import type { AliasRow } from "./types.js";

export type ModelAliases = ReturnType<typeof createModelAliases>;

/** Aliases one model may have (all are returned with it). */
export const MAX_ALIASES_PER_MODEL = 1000;

export function createModelAliases(deps: { db: Kysely<Database>; now: () => Date }) {
  const { db, now } = deps;

  function mayChangeProtected(caller: Principal, projectId: string | null, model: string, alias: string): void {
    if (!includes(effectiveRole(caller, projectId ?? undefined), "maintainer")) {
      throw new PermissionDeniedError(`alias "${alias}" of model "${model}" is protected: only a maintainer of the model may move or unprotect it`);
    }
  }

  /** Points `alias` at `version`; returns the alias and the version it pointed to before (0: new). */
  async function set(
    caller: Principal,
    name: string,
    s: { alias: string; version: number; reason: string; protect?: boolean },
  ): Promise<{ alias: AliasRow; previous: number }> {
    const { orgId } = caller;
    return db.transaction().execute(async (trx) => {
      const model = await repo.lockModel(trx, orgId, name);
      if (!model) throw new NotFoundError(`model "${name}" not found`);
      if (!(await repo.findVersion(trx, model.id, s.version))) throw new NotFoundError(`model "${name}" has no version ${s.version}`);
      const current = await aliases.findAlias(trx, model.id, s.alias);
      // A model's aliases come back with it (GetRegisteredModel): they are bounded.
      if (!current && (await aliases.countAliases(trx, model.id)) >= MAX_ALIASES_PER_MODEL) {
        throw new LimitExceededError(`model "${name}" has ${MAX_ALIASES_PER_MODEL} aliases, the limit: delete one first`);
      }
      const protect = s.protect ?? current?.protected ?? false;
      // Moving a protected alias, or protecting one, is a maintainer's; leaving an alias unprotected is anyone's.
      if (current?.protected || s.protect === true) mayChangeProtected(caller, model.projectId, name, s.alias);
      const at = now();
      // A retry of a move already made (same version, same protection) changes nothing and adds no history.
      if (current && current.version === s.version && current.protected === protect) return { alias: current, previous: current.version };
      await aliases.upsertAlias(trx, { modelId: model.id, orgId, alias: s.alias, version: s.version, protected: protect, updatedAt: at });
      if (current?.version !== s.version) {
        await aliases.insertMove(trx, move(caller, model.id, s.alias, current?.version ?? null, s.version, s.reason, at));
      }
      return { alias: { alias: s.alias, version: s.version, protected: protect, updatedAt: at }, previous: current?.version ?? 0 };
    });
  }

  async function remove(caller: Principal, name: string, alias: string, reason: string): Promise<void> {
    const { orgId } = caller;
    await db.transaction().execute(async (trx) => {
      const model = await repo.lockModel(trx, orgId, name);
      if (!model) throw new NotFoundError(`model "${name}" not found`);
      const current = await aliases.findAlias(trx, model.id, alias);
      if (!current) throw new NotFoundError(`model "${name}" has no alias "${alias}"`);
      if (current.protected) mayChangeProtected(caller, model.projectId, name, alias);
      await aliases.deleteAlias(trx, model.id, alias);
      await aliases.insertMove(trx, move(caller, model.id, alias, current.version, null, reason, now()));
    });
  }

  /** Moves newest first; with `at` (and an alias), also the version it pointed to then (0: none). */
  async function history(orgId: string, name: string, q: { alias?: string; at?: Date; pageSize: number; pageToken: string }): Promise<Page<AliasMoveRow> & { versionAt: number }> {
    const model = await repo.findModel(db, orgId, name);
    if (!model) throw new NotFoundError(`model "${name}" not found`);
    const beforeSeq = q.pageToken ? decodeToken(q.pageToken, isSafeInt) : undefined;
    const page = pageOf(await aliases.listMoves(db, model.id, { alias: q.alias, beforeSeq, limit: q.pageSize + 1 }), q.pageSize, (last) => last.seq);
    const versionAt = q.at && q.alias ? ((await aliases.versionAt(db, model.id, q.alias, q.at)) ?? 0) : 0;
    return { ...page, versionAt };
  }

  return { set, remove, history };
}

function move(caller: Principal, modelId: string, alias: string, fromVersion: number | null, toVersion: number | null, reason: string, at: Date): Omit<AliasMoveRow, "seq"> {
  return { id: newId("am"), orgId: caller.orgId, modelId, alias, fromVersion, toVersion, userId: caller.userId, keyId: caller.keyId, reason, at };
}
