#!/usr/bin/env bash
# parliament (an IAM policy linter, from PyPI, into a cached venv) on every IAM policy of the
# rendered templates (scripts/iam-policies.py resolves their intrinsic functions to example
# values) and on deploy/verify-policy.json. A finding fails unless
# scripts/parliament-allowed.tsv lists it with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
PARLIAMENT_VERSION=1.6.4
VENV=${LOGLAB_CACHE:-$HOME/.cache/loglab}/parliament-$PARLIAMENT_VERSION
if [ ! -x "$VENV/bin/parliament" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "parliament==$PARLIAMENT_VERSION"
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for template in deploy/template.json deploy/template-crawler.json deploy/template-parquet.json; do
  python3 scripts/iam-policies.py "$template" "$out/$(basename "$template" .json)"
done
# The policy `loglab verify`'s caller needs (docs/verify.md), rendered for the default stack.
mkdir -p "$out/verify-policy"
cp deploy/verify-policy.json "$out/verify-policy/caller.json"
documents=0
unexplained=0
for policy in "$out"/*/*.json; do
  documents=$((documents + 1))
  name="$(basename "$(dirname "$policy")")/$(basename "$policy" .json)"
  # parliament reads stdin unless it is a terminal; --string and no stdin keep it on the file.
  findings=$("$VENV/bin/parliament" --json --string "$(cat "$policy")" </dev/null || true)
  while IFS= read -r finding; do
    [ -z "$finding" ] && continue
    issue=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["issue"])' "$finding")
    actions=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]).get("detail") or []; print(" ".join(sorted({x.get("action","") for x in d if isinstance(x, dict)})))' "$finding")
    allowed=0
    while IFS=$'\t' read -r pattern allowed_issue action _why; do
      [[ -z "$pattern" || "$pattern" == \#* ]] && continue
      # shellcheck disable=SC2053
      if [[ "$name" == $pattern && "$issue" == "$allowed_issue" && " $actions " == *" $action "* ]]; then
        allowed=1
      fi
    done <scripts/parliament-allowed.tsv
    if [ "$allowed" = 0 ]; then
      echo "parliament: $name: $finding" >&2
      unexplained=$((unexplained + 1))
    fi
  done <<<"$findings"
done
if [ "$unexplained" -gt 0 ]; then
  echo "parliament: $unexplained unexplained findings in $documents policy documents" >&2
  exit 1
fi
echo "parliament: $documents policy documents of deploy/template.json, template-crawler.json, template-parquet.json and deploy/verify-policy.json have no unexplained findings" >&2
