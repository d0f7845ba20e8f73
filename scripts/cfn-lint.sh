#!/usr/bin/env bash
# cfn-lint (from PyPI, into a cached venv) on the rendered templates: deploy/template.json
# (pipeline.toml), deploy/template-crawler.json (deploy/crawler.toml) and
# deploy/template-parquet.json (deploy/parquet.toml). Tests keep all three
# equal to what their definitions render to. Zero errors expected; warnings fail too.
set -euo pipefail
cd "$(dirname "$0")/.."
CFN_LINT_VERSION=1.51.0
VENV=${LOGLAB_CACHE:-$HOME/.cache/loglab}/cfn-lint-$CFN_LINT_VERSION
if [ ! -x "$VENV/bin/cfn-lint" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "cfn-lint==$CFN_LINT_VERSION"
fi
"$VENV/bin/cfn-lint" deploy/template.json deploy/template-crawler.json deploy/template-parquet.json
echo "cfn-lint: deploy/template.json, template-crawler.json and template-parquet.json are clean" >&2
