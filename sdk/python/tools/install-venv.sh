#!/usr/bin/env bash
# Creates sdk/python/.venv and installs the SDK (editable) with its test extras,
# which include the pinned grpcio-tools that `buf generate` needs. Idempotent:
# a no-op (well under a second) when the venv is up to date with pyproject.toml.
#
#   PYTHON   the interpreter to create the venv with (default: python3)
set -euo pipefail

SDK="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$SDK/.venv"
STAMP="$VENV/.installed-pyproject"

if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && cmp -s "$SDK/pyproject.toml" "$STAMP"; then
  echo "python-sdk: found $VENV (up to date with pyproject.toml)"
  exit 0
fi

start=$SECONDS
if [ ! -x "$VENV/bin/python" ]; then
  "${PYTHON:-python3}" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --editable "$SDK[test]"
cp "$SDK/pyproject.toml" "$STAMP"
echo "python-sdk: installed the SDK and its test extras in $VENV ($((SECONDS - start)) s)"
