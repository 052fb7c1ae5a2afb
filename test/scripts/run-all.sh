#!/usr/bin/env bash
# The whole test run (`npm test`):
#   a. test/scripts/install-tools.sh
#   b. generated code is fresh (buf generate leaves gen/ unchanged) and buf lint passes
#   c. typecheck (tsc --noEmit, for the server and for ui/), and the web UI's build
#   d. under test/scripts/with-services.sh: vitest, then the Python SDK's tests
#      (sdk/python/run-tests.sh) when sdk/python/tests exists
# Every step runs even when an earlier one failed (except that d needs the
# services). The last line of output is always exactly `N passed, M failed`:
# every vitest and pytest test, plus one failure for each failed step a-c and
# for a suite that could not run or report. Exits 0 only if M is 0.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

# npx --no: use the project's own binaries, never download one.
npx_() { npx --no -- "$@"; }

# --- d, inside with-services.sh: run the suites, record what happened in $1 ---
if [ "${1:-}" = "--suites" ]; then
  out="$2"
  rc=0
  npx_ vitest run --reporter=default --reporter=json --outputFile="$out/vitest.json" || rc=$?
  echo "$rc" >"$out/vitest.rc"
  if [ -d sdk/python/tests ]; then
    if [ -f sdk/python/run-tests.sh ]; then
      echo
      echo "==> Python SDK tests (sdk/python/run-tests.sh)"
      rc=0
      TRAINTRACK_PYTEST_JUNIT="$out/pytest.xml" bash sdk/python/run-tests.sh 2>&1 |
        tee "$out/pytest.out" || rc=$?
      echo "$rc" >"$out/pytest.rc"
    else
      echo "note: sdk/python/tests exists but sdk/python/run-tests.sh does not: Python tests not run"
    fi
  fi
  exit 0
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/traintrack-run.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

passed=0
failed=0
failed_steps=()

step_failed() {
  failed=$((failed + 1))
  failed_steps+=("$1")
  echo "FAILED: $1"
}

header() {
  echo
  echo "==> $*"
}

# a. tools ---------------------------------------------------------------------
header "install tools"
if ! test/scripts/install-tools.sh; then
  step_failed "install-tools"
fi

# b. generated code and lint ----------------------------------------------------
header "generated code is fresh (buf generate) and buf lint"
codegen_ok=true
if ! npx_ buf generate; then
  echo "buf generate failed"
  codegen_ok=false
elif ! git diff --exit-code --stat -- gen sdk/python/src/traintrack/_gen; then
  echo "gen/ is stale: run 'npm run generate' and commit the result"
  codegen_ok=false
else
  untracked="$(git status --porcelain --untracked-files=all -- gen sdk/python/src/traintrack/_gen | grep '^??' || true)"
  if [ -n "$untracked" ]; then
    echo "$untracked"
    echo "gen/ has files that are not committed: run 'npm run generate' and commit the result"
    codegen_ok=false
  fi
fi
if ! npx_ buf lint; then
  echo "buf lint failed"
  codegen_ok=false
fi
if [ "$codegen_ok" = true ]; then
  echo "gen/ is up to date; buf lint passed"
else
  step_failed "codegen/lint"
fi

# c. typecheck -------------------------------------------------------------------
header "typecheck (tsc --noEmit: the server, and ui/)"
if npx_ tsc --noEmit && npx_ tsc --noEmit -p ui; then
  echo "typecheck passed"
else
  step_failed "typecheck"
fi

# c2. the web UI's build, which the browser tests (test/browser/) load from dist/ui --
header "build the web UI (vite build → dist/ui)"
if npm run --silent build:ui; then
  echo "web UI built"
else
  step_failed "build:ui"
fi

# d. test suites, against real PostgreSQL and MinIO ------------------------------
header "test suites (vitest, Python SDK) with PostgreSQL and MinIO"
services_rc=0
test/scripts/with-services.sh "$ROOT/test/scripts/run-all.sh" --suites "$WORK" || services_rc=$?

# Prints "PASSED FAILED" for vitest's JSON report; explains extra failures on stderr.
vitest_counts() {
  node -e '
    const fs = require("node:fs");
    const [file, rc] = process.argv.slice(1);
    let passed = 0, failed = 0;
    try {
      const report = JSON.parse(fs.readFileSync(file, "utf8"));
      passed = Number(report.numPassedTests) || 0;
      failed = Number(report.numFailedTests) || 0;
      // A file that fails outside any test (import error, failing hook) has no failed test.
      for (const suite of report.testResults ?? []) {
        const tests = suite.assertionResults ?? [];
        if (suite.status === "failed" && !tests.some((t) => t.status === "failed")) {
          failed += 1;
          const why = String(suite.message ?? "").split("\n")[0];
          console.error(`vitest: ${suite.name} failed outside its tests: ${why}`);
        }
      }
      if (rc !== "0" && failed === 0) {
        failed = 1;
        console.error(`vitest exited with status ${rc} but no test failed (no test files, or an unhandled error): counted as 1 failed`);
      }
    } catch (e) {
      console.error(`vitest: no usable JSON report (${e.message}): counted as 1 failed`);
      passed = 0;
      failed = 1;
    }
    console.log(`${passed} ${failed}`);
  ' "$1" "$2"
}

# Prints "PASSED FAILED" for pytest, from its JUnit XML if written, else from
# the summary line of its output (-q or not).
pytest_counts() {
  node -e '
    const fs = require("node:fs");
    const [xml, out, rc] = process.argv.slice(1);
    let counts;
    try {
      const text = fs.readFileSync(xml, "utf8");
      const attr = (tag, name) => Number((tag.match(new RegExp(`\\s${name}="(\\d+)"`)) ?? [])[1] ?? 0);
      const suites = text.match(/<testsuite\s[^>]*>/g) ?? [];
      if (suites.length > 0) {
        counts = { passed: 0, failed: 0 };
        for (const s of suites) {
          const bad = attr(s, "failures") + attr(s, "errors");
          counts.failed += bad;
          counts.passed += Math.max(0, attr(s, "tests") - bad - attr(s, "skipped"));
        }
      }
    } catch {}
    if (!counts) {
      try {
        const lines = fs.readFileSync(out, "utf8").replace(/\x1b\[[0-9;]*m/g, "").trim().split("\n").reverse();
        const summary = lines.find((l) => /\b\d+ (passed|failed|errors?|skipped|deselected|xfailed|xpassed)\b/.test(l) || /no tests ran/.test(l));
        if (summary) {
          counts = { passed: 0, failed: 0 };
          for (const [, n, what] of summary.matchAll(/(\d+) (passed|failed|errors?|xpassed)\b/g)) {
            if (what === "passed" || what === "xpassed") counts.passed += Number(n);
            else counts.failed += Number(n);
          }
        }
      } catch {}
    }
    if (!counts) {
      console.error("pytest: no JUnit XML and no summary line: counted as 1 failed");
      counts = { passed: 0, failed: 1 };
    } else if (rc !== "0" && counts.failed === 0) {
      console.error(`pytest exited with status ${rc} but no test failed (5: no tests collected): counted as 1 failed`);
      counts.failed = 1;
    }
    console.log(`${counts.passed} ${counts.failed}`);
  ' "$1" "$2" "$3"
}

echo
if [ -f "$WORK/vitest.rc" ]; then
  vitest_counts "$WORK/vitest.json" "$(cat "$WORK/vitest.rc")" >"$WORK/vitest.counts" ||
    echo "0 1" >"$WORK/vitest.counts"
  read -r p f <"$WORK/vitest.counts"
  echo "vitest: $p passed, $f failed"
  passed=$((passed + p))
  failed=$((failed + f))
  [ "$f" -eq 0 ] || failed_steps+=("vitest")
  if [ -f "$WORK/pytest.rc" ]; then
    pytest_counts "$WORK/pytest.xml" "$WORK/pytest.out" "$(cat "$WORK/pytest.rc")" >"$WORK/pytest.counts" ||
      echo "0 1" >"$WORK/pytest.counts"
    read -r p f <"$WORK/pytest.counts"
    echo "pytest: $p passed, $f failed"
    passed=$((passed + p))
    failed=$((failed + f))
    [ "$f" -eq 0 ] || failed_steps+=("pytest")
  fi
  if [ "$services_rc" -ne 0 ]; then
    step_failed "with-services (exit status $services_rc after the suites ran)"
  fi
else
  step_failed "services did not start (with-services.sh exit status $services_rc): no suite ran"
fi

if [ "${#failed_steps[@]}" -gt 0 ]; then
  echo "failed: $(IFS=,; echo "${failed_steps[*]}" | sed 's/,/, /g')"
fi
echo "$passed passed, $failed failed"
if [ "$failed" -eq 0 ]; then
  exit 0
fi
exit 1
