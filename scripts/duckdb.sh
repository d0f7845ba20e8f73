#!/usr/bin/env bash
# DuckDB (from PyPI, into a cached venv) for the query bench's side-by-side figures.
# Prints the venv's python on stdout; the bench runs its DuckDB queries through it.
set -euo pipefail
DUCKDB_VERSION=1.5.6
VENV=${LOGLAB_CACHE:-$HOME/.cache/loglab}/duckdb-$DUCKDB_VERSION
if ! "$VENV/bin/python" -c 'import duckdb' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "duckdb==$DUCKDB_VERSION" >&2
fi
echo "$VENV/bin/python"
