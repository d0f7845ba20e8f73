#!/usr/bin/env bash
# cargo-lambda (from PyPI, into a cached venv; its wheel brings Zig, which links the function
# binaries against provided.al2023's glibc 2.34 instead of the host's). Runs `cargo lambda`
# with the arguments given; `scripts/cargo-lambda.sh path` prints the executable's path
# (installing it first), which is how `loglab build` and `loglab run --lambda artifacts` find it.
set -euo pipefail
CARGO_LAMBDA_VERSION=1.9.2
VENV=${LOGLAB_CACHE:-$HOME/.cache/loglab}/cargo-lambda-$CARGO_LAMBDA_VERSION
if [ ! -x "$VENV/bin/cargo-lambda" ]; then
  echo "installing cargo-lambda $CARGO_LAMBDA_VERSION into $VENV (once)" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "cargo-lambda==$CARGO_LAMBDA_VERSION"
fi
if [ "${1:-}" = path ]; then
  echo "$VENV/bin/cargo-lambda"
  exit 0
fi
# Zig comes with the wheel (the ziglang package); cargo-lambda looks for it on PATH.
export PATH="$VENV/bin:$PATH"
exec "$VENV/bin/cargo-lambda" lambda "$@"
