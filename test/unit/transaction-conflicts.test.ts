/**
 * A transaction PostgreSQL aborts as a deadlock or serialization failure
 * changed nothing: work that is safe to repeat (an OpenLineage event) is run
 * again, and a call that still meets one says ABORTED / 409 ("retry it"),
 * never INTERNAL.
 */
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { retryingConflicts } from "../../src/db/pg-errors.js";
import { toConnectError } from "../../src/wire/errors.js";
import { statusOf } from "../../src/wire/json-http.js";

const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });

describe("transaction conflicts", () => {
  it("runs the work again after a deadlock or serialization failure, up to three times", async () => {
    for (const code of ["40P01", "40001"]) {
      let calls = 0;
      await expect(retryingConflicts(async () => (++calls < 3 ? Promise.reject(pgError(code)) : "done"))).resolves.toBe("done");
      expect(calls).toBe(3);
    }
    let calls = 0;
    await expect(retryingConflicts(async () => Promise.reject(pgError("40P01")).finally(() => calls++))).rejects.toMatchObject({ code: "40P01" });
    expect(calls).toBe(3);
  });

  it("does not repeat work that failed for another reason", async () => {
    let calls = 0;
    await expect(retryingConflicts(async () => Promise.reject(pgError("23505")).finally(() => calls++))).rejects.toMatchObject({ code: "23505" });
    expect(calls).toBe(1);
  });

  it("answers a conflict that remains as ABORTED over RPC and 409 over plain HTTP, saying to retry", () => {
    const rpc = toConnectError(pgError("40P01"), "req-1");
    expect(rpc.code).toBe(Code.Aborted);
    expect(rpc.rawMessage).toMatch(/retry it/);
    expect(statusOf(pgError("40001"), "req-2")).toEqual({ status: 409, message: expect.stringMatching(/retry it/) });
  });
});
