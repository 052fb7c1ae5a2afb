import { describe, expect, it } from "vitest";
import { createFailureLimiter } from "../../src/services/identity/failure-limiter.js";
import { effectiveRole, highestRole, type Principal } from "../../src/services/identity/roles.js";

const principal = (p: Partial<Principal>): Principal => ({
  orgId: "org_1",
  userId: "u_1",
  keyId: "key_1",
  instanceAdmin: false,
  keyScope: "all",
  keyProjectId: null,
  orgRole: undefined,
  projectRoles: new Map(),
  ...p,
});

describe("effective roles", () => {
  it("a project grant adds to the organisation's, never removes", () => {
    const p = principal({ orgRole: "editor", projectRoles: new Map([["prj_a", "viewer"], ["prj_b", "maintainer"]]) });
    expect([effectiveRole(p, undefined), effectiveRole(p, "prj_a"), effectiveRole(p, "prj_b"), effectiveRole(p, "prj_c")]).toEqual([
      "editor",
      "editor",
      "maintainer",
      "editor",
    ]);
  });

  it("owner is an organisation role: on a project it is maintainer", () => {
    expect(effectiveRole(principal({ orgRole: "owner" }), "prj_a")).toBe("maintainer");
  });

  it("a read-only key reads, whatever its user holds", () => {
    const p = principal({ orgRole: "owner", keyScope: "read_only", projectRoles: new Map([["prj_a", "maintainer"]]) });
    expect([effectiveRole(p, undefined), effectiveRole(p, "prj_a"), highestRole(p)]).toEqual(["viewer", "viewer", "viewer"]);
  });

  it("a project key reaches its project only, and never more than its user holds there", () => {
    const p = principal({ orgRole: "editor", keyScope: "project", keyProjectId: "prj_a" });
    expect([effectiveRole(p, undefined), effectiveRole(p, "prj_a"), effectiveRole(p, "prj_b"), highestRole(p)]).toEqual([undefined, "editor", undefined, "editor"]);
    expect(effectiveRole(principal({ keyScope: "project", keyProjectId: "prj_a" }), "prj_a")).toBeUndefined();
  });

  it("a SCIM key holds no role for RPCs", () => {
    const p = principal({ orgRole: "owner", keyScope: "scim" });
    expect([effectiveRole(p, undefined), effectiveRole(p, "prj_a"), highestRole(p)]).toEqual([undefined, undefined, undefined]);
  });
});

describe("failed authentication limits", () => {
  it("blocks a source after its burst and lets it try again as the bucket refills", () => {
    let now = 0;
    const limiter = createFailureLimiter({ burst: 3, refillMs: 1000, now: () => now });
    for (let i = 0; i < 3; i++) {
      expect(limiter.isBlocked("10.0.0.1")).toBe(false);
      limiter.failed("10.0.0.1");
    }
    expect(limiter.isBlocked("10.0.0.1")).toBe(true);
    expect(limiter.isBlocked("10.0.0.2")).toBe(false);
    now += 1000;
    expect(limiter.isBlocked("10.0.0.1")).toBe(false);
  });

  it("remembers keys that worked, so a blocked address can still use them", () => {
    let now = 0;
    const limiter = createFailureLimiter({ burst: 1, refillMs: 1000, now: () => now });
    limiter.succeeded("hash-good");
    expect([limiter.knownGood("hash-good"), limiter.knownGood("hash-other")]).toEqual([true, false]);
    now += 11 * 60_000;
    expect(limiter.knownGood("hash-good")).toBe(false);
  });
});
