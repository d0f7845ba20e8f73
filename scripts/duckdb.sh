#!/usr/bin/env bash
# DuckDB (from PyPI, into a cached venv) for the query bench's side-by-side figures.
# Prints the venv's python on stdout; the bench runs its DuckDB queries through it.
set -euo pipefail
# shellcheck source=lib/pypi-venv.sh
source "$(dirname "$0")/lib/pypi-venv.sh"
DUCKDB_VERSION=1.5.6
pypi_venv "${LOGLAB_CACHE:-$HOME/.cache/loglab}/duckdb-$DUCKDB_VERSION" duckdb "duckdb==$DUCKDB_VERSION"
