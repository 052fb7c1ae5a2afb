/**
 * The one policy table covers exactly what the server answers: every method of
 * every served service has a rule, no rule names a method that does not exist,
 * and every service generated into gen/ is served (a service generated but not
 * routed would otherwise escape both checks).
 */
import { readdir } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { DescService } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { POLICY } from "../../src/wire/policy.js";
import { servedServices } from "../../src/wire/routes.js";

const GEN = path.resolve(import.meta.dirname, "../../gen");

/** Every service descriptor exported by a generated *_pb.ts file. */
async function generatedServices(): Promise<DescService[]> {
  const files = (await readdir(GEN, { recursive: true })).filter((f) => f.endsWith("_pb.ts"));
  const services: DescService[] = [];
  for (const file of files) {
    const module = (await import(pathToFileURL(path.join(GEN, file)).href)) as Record<string, unknown>;
    for (const value of Object.values(module)) {
      if (typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === "service") services.push(value as DescService);
    }
  }
  return services;
}

/** "service/method" for every method of `services`, by the local names the policy uses. */
const methodsOf = (services: readonly DescService[]) => services.flatMap((s) => s.methods.map((m) => `${s.typeName}/${m.localName}`));

/** "service/method" for every rule of `policy`. */
const rulesOf = (policy: typeof POLICY) => Object.entries(policy).flatMap(([service, rules]) => Object.keys(rules).map((m) => `${service}/${m}`));

describe("the policy table", () => {
  it("serves every service generated into gen/", async () => {
    const generated = (await generatedServices()).map((s) => s.typeName).sort();
    expect(generated.length).toBeGreaterThanOrEqual(servedServices.length);
    expect(servedServices.map((s) => s.typeName).sort()).toEqual(generated);
  });

  it("has a rule for every method of every served service", () => {
    const rules = new Set(rulesOf(POLICY));
    const missing = methodsOf(servedServices).filter((m) => !rules.has(m));
    expect(missing, "methods without an entry in POLICY (src/wire/policy.ts)").toEqual([]);
  });

  it("has no rule for a method that does not exist", () => {
    const methods = new Set(methodsOf(servedServices));
    const stray = rulesOf(POLICY).filter((r) => !methods.has(r));
    expect(stray, "entries in POLICY that name no served method").toEqual([]);
  });

  it("audits every method that is not a read", () => {
    // A rule whose need is above viewer changes something; reads (viewer, signed-in, public) may skip the log.
    // Exceptions that are reads despite a stricter need: listing, getting, and the instance administrator's list.
    const reads = /^(get|list|search|download|whoAmI|testPermissions|check|watch|serverReflectionInfo)/;
    const unaudited = Object.entries(POLICY).flatMap(([service, rules]) =>
      Object.entries(rules)
        .filter(([method, rule]) => !reads.test(method) && rule.need !== "public" && !rule.audit)
        .map(([method]) => `${service}/${method}`),
    );
    expect(unaudited, "writes that leave no audit event").toEqual([]);
  });
});
