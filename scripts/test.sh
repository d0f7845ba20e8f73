#!/usr/bin/env bash
# The test command from README.md (CI runs exactly this through .ci/run).
#
# Starts LocalStack as a host process when no emulator answers (installing it into the cache on
# first use), runs every test of the workspace against it, and stops what it started.
# LOCALSTACK_ENDPOINT=<url> uses an emulator that is already running instead.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/loglab-target}

started_here=0
stop_emulator() { if [ "$started_here" = 1 ]; then scripts/localstack-host.sh stop || true; fi; }
trap stop_emulator EXIT

if [ -z "${LOCALSTACK_ENDPOINT:-}" ]; then
  scripts/localstack-host.sh status || started_here=1
  LOCALSTACK_ENDPOINT=$(scripts/localstack-host.sh start)
  export LOCALSTACK_ENDPOINT
fi
echo "tests use LocalStack at $LOCALSTACK_ENDPOINT" >&2

cargo test --workspace --locked "$@"
