#!/usr/bin/env bash
# boto3 (from PyPI, into a cached venv): the Python client our users have, for the tests that
# prove the harness's AWS stand-ins answer it (the Glue Data Catalog). Prints the venv's python
# on stdout.
set -euo pipefail
BOTO3_VERSION=1.44.18
VENV=${LOGLAB_CACHE:-$HOME/.cache/loglab}/boto3-$BOTO3_VERSION
if ! "$VENV/bin/python" -c 'import boto3' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "boto3==$BOTO3_VERSION" >&2
fi
echo "$VENV/bin/python"
