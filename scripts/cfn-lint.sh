#!/usr/bin/env bash
# cfn-lint (from PyPI, into a cached venv) on deploy/template.json and on the template that
# deploy/projection.toml renders to. Zero errors expected; warnings are shown and fail too.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/loglab-target}
CFN_LINT_VERSION=1.51.0
VENV=${LOGLAB_CACHE:-$HOME/.cache/loglab}/cfn-lint-$CFN_LINT_VERSION
if [ ! -x "$VENV/bin/cfn-lint" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "cfn-lint==$CFN_LINT_VERSION"
fi
variant=$(mktemp --suffix=.json)
trap 'rm -f "$variant"' EXIT
cargo run --quiet --locked -p sim --bin loglab -- --definition deploy/projection.toml render --out "$variant" >/dev/null
"$VENV/bin/cfn-lint" deploy/template.json "$variant"
echo "cfn-lint: deploy/template.json and the projection variant are clean" >&2
