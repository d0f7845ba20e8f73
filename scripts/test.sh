#!/usr/bin/env bash
# The test command from README.md (CI runs exactly this through .ci/run).
#
# Starts LocalStack as a host process when no emulator answers (installing it into the cache on
# first use), makes sure a Docker engine runs and the LocalStack image exists (for the container
# backend's tests; installed and built on first use), runs every test of the workspace, and
# stops what it started. LOCALSTACK_ENDPOINT=<url> uses an emulator that is already running
# instead of the host process.
set -euo pipefail
cd "$(dirname "$0")/.."
# The target dir is cargo's own (./target, or CARGO_TARGET_DIR when set), the same as the
# README's main job uses, and the feature set is the same (see Cargo.toml): run right after
# `cargo run --bin loglab`, this compiles only the test targets.

started_here=0
ministack_started_here=0
stop_emulator() {
  if [ "$started_here" = 1 ]; then scripts/localstack-host.sh stop || true; fi
  if [ "$ministack_started_here" = 1 ]; then scripts/ministack-host.sh stop || true; fi
}
trap stop_emulator EXIT

if [ -z "${LOCALSTACK_ENDPOINT:-}" ]; then
  scripts/localstack-host.sh status || started_here=1
  LOCALSTACK_ENDPOINT=$(scripts/localstack-host.sh start)
  export LOCALSTACK_ENDPOINT
fi
echo "tests use LocalStack at $LOCALSTACK_ENDPOINT" >&2

# The second emulator (MiniStack, from PyPI): the port conformance suites and the stack's
# provisioning run on it too. MINISTACK_ENDPOINT=<url> uses one already running.
if [ -z "${MINISTACK_ENDPOINT:-}" ]; then
  scripts/ministack-host.sh status || ministack_started_here=1
  MINISTACK_ENDPOINT=$(scripts/ministack-host.sh start)
  export MINISTACK_ENDPOINT
fi
echo "tests use MiniStack at $MINISTACK_ENDPOINT" >&2

# The container backend's tests need a Docker engine and the locally built image. Outside CI,
# LOGLAB_SKIP_CONTAINER=1 skips them (the tests say so); in CI they always run.
if [ -n "${CI:-}" ] || [ -z "${LOGLAB_SKIP_CONTAINER:-}" ]; then
  scripts/localstack-image.sh all >/dev/null
fi

# Headless Chromium (Debian's package), for the test that opens a run's report.html; the
# screenshot it takes is kept in .loglab/artifacts/ (LOGLAB_ARTIFACTS to put it elsewhere).
scripts/chromium.sh >/dev/null

# The Lambda artifacts (both functions built by cargo-lambda for provided.al2023, the `fast`
# profile unless LOGLAB_LAMBDA_PROFILE says otherwise): the glibc and package tests read them,
# the deploy test uploads them. Rebuilt only when the sources changed (cargo decides).
LOGLAB_LAMBDA_PROFILE=${LOGLAB_LAMBDA_PROFILE:-fast}
export LOGLAB_LAMBDA_PROFILE
cargo run --locked --quiet --bin loglab -- build --profile "$LOGLAB_LAMBDA_PROFILE" --arch x86_64

# cargo prints one "test result:" line per test binary, the last for doc-tests (often 0);
# the plain total at the end is the line to read.
log=$(mktemp)
trap 'stop_emulator; rm -f "$log"' EXIT
set +e
cargo test --workspace --locked "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
exit "$status"
