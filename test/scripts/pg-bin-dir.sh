# Sourced by install-tools.sh and with-services.sh.
# pg_bin_dir: the directory holding initdb and pg_ctl: the newest
# /usr/lib/postgresql/<v>/bin, else wherever initdb on PATH really lives.
# Prints nothing if there is none.
pg_bin_dir() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
    echo "$dir"
    return
  fi
  if command -v initdb >/dev/null 2>&1; then
    dir="$(dirname "$(readlink -f "$(command -v initdb)")")"
    if [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
    fi
  fi
}
