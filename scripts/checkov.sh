#!/usr/bin/env bash
# checkov (from PyPI, into a cached venv) on the rendered templates, next to cfn-lint. Every
# finding is either fixed in the stack or suppressed in the template with a written reason
# (the resource's Metadata.checkov.skip, rendered from stack/src/resources/); an unexplained
# finding fails.
set -euo pipefail
cd "$(dirname "$0")/.."
CHECKOV_VERSION=3.3.30
VENV=${LOGLAB_CACHE:-$HOME/.cache/loglab}/checkov-$CHECKOV_VERSION
if [ ! -x "$VENV/bin/checkov" ]; then
  echo "installing checkov $CHECKOV_VERSION into $VENV (once)" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
fi
for template in deploy/template.json deploy/template-crawler.json deploy/template-parquet.json; do
  "$VENV/bin/checkov" --quiet --compact --framework cloudformation --file "$template" \
    --skip-download --output cli
done
echo "checkov: deploy/template.json, template-crawler.json and template-parquet.json have no unexplained findings" >&2
