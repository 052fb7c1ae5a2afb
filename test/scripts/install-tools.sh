#!/usr/bin/env bash
# Installs what the test command needs and is missing: a PostgreSQL server,
# jq, Chromium, MinIO, grpcurl and the Python SDK's venv. Idempotent; a no-op (well under a
# second) when all of them are present. Prints one line per tool and exits
# non-zero if an install fails.
#
#   TRAINTRACK_TOOLS_DIR  where MinIO and grpcurl are built and cached
#                         (default: ~/.cache/traintrack/bin)
set -euo pipefail

TOOLS="${TRAINTRACK_TOOLS_DIR:-$HOME/.cache/traintrack/bin}"

die() {
  echo "install-tools: $*" >&2
  exit 1
}

as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

# shellcheck source=pg-bin-dir.sh
. "$(dirname "${BASH_SOURCE[0]}")/pg-bin-dir.sh"

go_bin() {
  if command -v go >/dev/null 2>&1; then
    command -v go
  elif [ -x /usr/local/go/bin/go ]; then
    echo /usr/local/go/bin/go
  else
    die "the Go toolchain is needed to build $1 and was not found (PATH or /usr/local/go/bin)"
  fi
}

# go_tool NAME MODULE: builds MODULE into $TOOLS unless $TOOLS/NAME exists.
go_tool() {
  local name="$1" module="$2" go start
  if [ -x "$TOOLS/$name" ]; then
    echo "$name: found $TOOLS/$name"
    return
  fi
  go="$(go_bin "$name")"
  mkdir -p "$TOOLS"
  echo "$name: building $module with $("$go" version | cut -d' ' -f3) (this takes a few minutes)..."
  start=$SECONDS
  if ! GOBIN="$TOOLS" "$go" install "$module"; then
    die "$name: 'go install $module' failed"
  fi
  [ -x "$TOOLS/$name" ] || die "$name: 'go install $module' did not produce $TOOLS/$name"
  echo "$name: installed $TOOLS/$name ($((SECONDS - start)) s)"
}

# PostgreSQL server
bindir="$(pg_bin_dir)"
if [ -n "$bindir" ]; then
  echo "postgresql: found $bindir ($("$bindir/postgres" --version 2>/dev/null || echo unknown version))"
else
  echo "postgresql: initdb not found, installing with apt-get..."
  as_root apt-get update || die "postgresql: apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql ||
    die "postgresql: apt-get install -y postgresql failed"
  bindir="$(pg_bin_dir)"
  [ -n "$bindir" ] || die "postgresql: installed, but no initdb/pg_ctl found in /usr/lib/postgresql/*/bin or PATH"
  echo "postgresql: installed $bindir ($("$bindir/postgres" --version 2>/dev/null || echo unknown version))"
fi

# jq: the README's grpcurl session picks ids out of JSON with it (its test runs the session as written).
if command -v jq >/dev/null 2>&1; then
  echo "jq: found $(command -v jq)"
else
  echo "jq: not found, installing with apt-get..."
  as_root apt-get update || die "jq: apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y jq || die "jq: apt-get install -y jq failed"
fi

# Chromium, for the browser tests (test/browser/, driven by playwright-core): Debian's package, never a browser download.
if [ -n "${TRAINTRACK_CHROMIUM:-}" ] && [ -x "$TRAINTRACK_CHROMIUM" ]; then
  echo "chromium: found $TRAINTRACK_CHROMIUM"
elif [ -x /usr/bin/chromium ]; then
  echo "chromium: found /usr/bin/chromium"
else
  echo "chromium: not found, installing with apt-get..."
  as_root apt-get update || die "chromium: apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-dejavu-core ||
    die "chromium: apt-get install -y chromium failed"
  [ -x /usr/bin/chromium ] || die "chromium: installed, but /usr/bin/chromium is missing"
  echo "chromium: installed /usr/bin/chromium"
fi

# MinIO and grpcurl: no Debian or npm package; built with Go and cached.
go_tool minio github.com/minio/minio@latest
go_tool grpcurl github.com/fullstorydev/grpcurl/cmd/grpcurl@latest

# The Python SDK's venv (sdk/python/.venv): its tests, and grpcio-tools for `buf generate`.
"$(dirname "${BASH_SOURCE[0]}")/../../sdk/python/tools/install-venv.sh" || die "python-sdk: creating sdk/python/.venv failed"
