#!/usr/bin/env bash
# with-services.sh CMD [ARG...]
#
# Starts a throwaway PostgreSQL cluster and a MinIO server on free loopback
# ports in a temporary directory, runs CMD with these variables exported, then
# stops both and removes the directory (also on failure or interrupt), and
# exits with CMD's status:
#
#   TRAINTRACK_TEST_PG_URL         postgres://postgres@127.0.0.1:PORT/postgres (trust, superuser)
#   TRAINTRACK_TEST_S3_ENDPOINT    http://127.0.0.1:PORT
#   TRAINTRACK_TEST_S3_ACCESS_KEY  MinIO root user
#   TRAINTRACK_TEST_S3_SECRET_KEY  MinIO root password
#   TRAINTRACK_TEST_S3_REGION      us-east-1
#   TRAINTRACK_TEST_GRPCURL        path of grpcurl
#   TRAINTRACK_TEST_PG_BIN         directory of initdb and pg_ctl (for suites running a cluster of their own)
#   TRAINTRACK_TEST_MINIO          path of the MinIO binary (for suites running a server of their own)
#
# If a service cannot start, prints why with its log and exits non-zero: CMD is
# not run. Tools come from test/scripts/install-tools.sh (same TRAINTRACK_TOOLS_DIR).
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 CMD [ARG...]" >&2
  exit 2
fi

TOOLS="${TRAINTRACK_TOOLS_DIR:-$HOME/.cache/traintrack/bin}"
MINIO="$TOOLS/minio"
GRPCURL="$TOOLS/grpcurl"

log() { echo "with-services: $*" >&2; }

die() {
  log "$*"
  exit 1
}

# Prints the last lines of a log file, indented, to stderr.
show_log() {
  local file="$1"
  if [ -s "$file" ]; then
    log "last lines of $file:"
    tail -n 40 "$file" | sed 's/^/    /' >&2
  else
    log "($file is empty or missing)"
  fi
}

# shellcheck source=pg-bin-dir.sh
. "$(dirname "${BASH_SOURCE[0]}")/pg-bin-dir.sh"

# free_ports N: N distinct free TCP ports on 127.0.0.1 (all bound at once, then released).
free_ports() {
  node -e '
    const net = require("node:net");
    const n = Number(process.argv[1]);
    const servers = [];
    const bind = () => {
      const s = net.createServer();
      s.on("error", (e) => { console.error(e.message); process.exit(1); });
      s.listen(0, "127.0.0.1", () => {
        servers.push(s);
        if (servers.length < n) return bind();
        console.log(servers.map((x) => x.address().port).join(" "));
        for (const x of servers) x.close();
      });
    };
    bind();
  ' "$1"
}

PG_BIN="$(pg_bin_dir)"
[ -n "$PG_BIN" ] || die "PostgreSQL server (initdb, pg_ctl) not found: run test/scripts/install-tools.sh"
[ -x "$MINIO" ] || die "MinIO not found at $MINIO: run test/scripts/install-tools.sh"
[ -x "$GRPCURL" ] || die "grpcurl not found at $GRPCURL: run test/scripts/install-tools.sh"
command -v curl >/dev/null 2>&1 || die "curl is needed to check that MinIO is up"

# initdb refuses to run as root: then the cluster belongs to the postgres user.
IS_ROOT=false
if [ "$(id -u)" = 0 ]; then
  IS_ROOT=true
  id postgres >/dev/null 2>&1 || die "running as root, but there is no 'postgres' user to own the cluster"
fi
as_pg() {
  if [ "$IS_ROOT" = true ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

WORK=""
PGDATA_DIR=""
MINIO_PID=""

cleanup() {
  local status=$?
  trap - EXIT INT TERM HUP
  set +e
  if [ -n "$PGDATA_DIR" ] && [ -f "$PGDATA_DIR/postmaster.pid" ]; then
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m immediate -w -t 20 stop >/dev/null 2>&1; then
      local pid
      pid="$(head -n 1 "$PGDATA_DIR/postmaster.pid" 2>/dev/null)"
      [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    fi
  fi
  if [ -n "$MINIO_PID" ] && kill -0 "$MINIO_PID" 2>/dev/null; then
    kill -TERM "$MINIO_PID" 2>/dev/null
    local i
    for i in $(seq 1 100); do
      kill -0 "$MINIO_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$MINIO_PID" 2>/dev/null
    wait "$MINIO_PID" 2>/dev/null
  fi
  if [ -n "$WORK" ]; then
    rm -rf "$WORK"
  fi
  exit "$status"
}
CMD_PID=""
# On a signal: pass it on to CMD, give CMD 15 s to finish, then clean up.
on_signal() {
  local sig="$1" code="$2" i
  if [ -n "$CMD_PID" ]; then
    kill -"$sig" "$CMD_PID" 2>/dev/null || true
    for i in $(seq 1 150); do
      kill -0 "$CMD_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$CMD_PID" 2>/dev/null || true
  fi
  exit "$code"
}
trap cleanup EXIT
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM
trap 'on_signal HUP 129' HUP

started=$SECONDS
WORK="$(mktemp -d "${TMPDIR:-/tmp}/traintrack-services.XXXXXX")"
# The postgres user must be able to reach its data directory inside.
chmod 755 "$WORK"

read -r PG_PORT S3_PORT S3_CONSOLE_PORT < <(free_ports 3) || die "could not find free ports"
[ -n "${S3_CONSOLE_PORT:-}" ] || die "could not find free ports"

# --- PostgreSQL ---------------------------------------------------------------
PGDATA_DIR="$WORK/pg"
mkdir -m 700 "$PGDATA_DIR"
if [ "$IS_ROOT" = true ]; then
  chown postgres: "$PGDATA_DIR"
fi
PG_LOG="$PGDATA_DIR/server.log"
if ! as_pg "$PG_BIN/initdb" -D "$PGDATA_DIR" -A trust -U postgres --no-sync \
  >"$WORK/initdb.log" 2>&1; then
  show_log "$WORK/initdb.log"
  die "PostgreSQL: initdb failed"
fi
# A port found free can be taken by someone else before the server binds it:
# then try again on another one.
for attempt in 1 2 3; do
  if as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PG_LOG" -w -t 60 \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PGDATA_DIR -c fsync=off -c max_connections=300" \
    start >"$WORK/pg_ctl.log" 2>&1; then
    break
  fi
  if [ "$attempt" -lt 3 ] && grep -q "Address already in use" "$PG_LOG" 2>/dev/null; then
    log "PostgreSQL: port $PG_PORT was taken, trying another"
    as_pg truncate -s 0 "$PG_LOG"
    read -r PG_PORT < <(free_ports 1)
    continue
  fi
  show_log "$WORK/pg_ctl.log"
  show_log "$PG_LOG"
  die "PostgreSQL: server did not start on 127.0.0.1:$PG_PORT"
done

# --- MinIO --------------------------------------------------------------------
S3_ACCESS_KEY="traintrack-test"
S3_SECRET_KEY="$(node -e 'console.log(require("node:crypto").randomBytes(18).toString("hex"))')"
mkdir "$WORK/minio-data"
MINIO_LOG="$WORK/minio.log"
# Starts MinIO and waits until it is live; returns 1 (with the reason in
# $minio_error) if it exits or is not live within 30 s.
start_minio() {
  MINIO_ROOT_USER="$S3_ACCESS_KEY" MINIO_ROOT_PASSWORD="$S3_SECRET_KEY" \
    MINIO_BROWSER=off MINIO_UPDATE=off \
    "$MINIO" server "$WORK/minio-data" --quiet \
    --address "127.0.0.1:$S3_PORT" --console-address "127.0.0.1:$S3_CONSOLE_PORT" \
    </dev/null >"$MINIO_LOG" 2>&1 &
  MINIO_PID=$!
  local deadline=$((SECONDS + 30))
  until curl -sf -o /dev/null "http://127.0.0.1:$S3_PORT/minio/health/live"; do
    if ! kill -0 "$MINIO_PID" 2>/dev/null; then
      wait "$MINIO_PID" 2>/dev/null || true
      MINIO_PID=""
      minio_error="server exited during start-up (127.0.0.1:$S3_PORT)"
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      minio_error="not live on 127.0.0.1:$S3_PORT after 30 s"
      return 1
    fi
    sleep 0.2
  done
}
for attempt in 1 2 3; do
  minio_error=""
  if start_minio; then
    break
  fi
  if [ "$attempt" -lt 3 ] && [ -z "$MINIO_PID" ] && grep -qi "already in use" "$MINIO_LOG"; then
    log "MinIO: port $S3_PORT or $S3_CONSOLE_PORT was taken, trying others"
    read -r S3_PORT S3_CONSOLE_PORT < <(free_ports 2)
    continue
  fi
  show_log "$MINIO_LOG"
  die "MinIO: $minio_error"
done

export TRAINTRACK_TEST_PG_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
export TRAINTRACK_TEST_S3_ENDPOINT="http://127.0.0.1:$S3_PORT"
export TRAINTRACK_TEST_S3_ACCESS_KEY="$S3_ACCESS_KEY"
export TRAINTRACK_TEST_S3_SECRET_KEY="$S3_SECRET_KEY"
export TRAINTRACK_TEST_S3_REGION="us-east-1"
export TRAINTRACK_TEST_GRPCURL="$GRPCURL"
export TRAINTRACK_TEST_PG_BIN="$PG_BIN"
export TRAINTRACK_TEST_MINIO="$MINIO"
log "PostgreSQL on 127.0.0.1:$PG_PORT, MinIO on 127.0.0.1:$S3_PORT (ready in $((SECONDS - started)) s)"

# CMD runs in the background so that a signal reaches our trap at once, with
# SIGINT and SIGQUIT restored (bash ignores them in background jobs) and our stdin.
( trap - INT QUIT; exec "$@" ) <&0 &
CMD_PID=$!
status=0
wait "$CMD_PID" || status=$?
CMD_PID=""
exit "$status"
