#!/usr/bin/env bash
# Runs the Python SDK's tests (pytest) against the real server, and exits with pytest's status.
#
# Creates sdk/python/.venv with the SDK and its test extras when missing (as
# test/scripts/install-tools.sh does). The server runs from the repository
# root, so `npm install` must have run. With TRAINTRACK_TEST_PG_URL and
# TRAINTRACK_TEST_S3_* set (test/scripts/with-services.sh sets them) the tests
# also run against PostgreSQL + MinIO; under CI=true they must.
#
#   TRAINTRACK_PYTEST_JUNIT   write a JUnit XML report there
#   extra arguments           passed on to pytest (e.g. -k resume, -x)
set -euo pipefail

SDK="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$SDK"

# A no-op (well under a second) when the venv matches pyproject.toml; reinstalls when the
# test extras changed (a venv made before scim2-tester joined them would fail to import it).
"$SDK/tools/install-venv.sh"

args=(-q -p no:cacheprovider)
if [ -n "${TRAINTRACK_PYTEST_JUNIT:-}" ]; then
  args+=("--junitxml=$TRAINTRACK_PYTEST_JUNIT")
fi
# A hung test must not hang CI: stop after 15 minutes (the suite takes about 3).
exec timeout --signal=TERM --kill-after=30 900 .venv/bin/python -m pytest "${args[@]}" "$@"
