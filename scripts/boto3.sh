#!/usr/bin/env bash
# boto3 and PyAthena (from PyPI, into a cached venv): the Python clients our users have, for the
# tests that prove the harness's AWS stand-ins answer them (the Glue Data Catalog, Athena).
# Prints the venv's python on stdout.
set -euo pipefail
# shellcheck source=lib/pypi-venv.sh
source "$(dirname "$0")/lib/pypi-venv.sh"
BOTO3_VERSION=1.44.18
PYATHENA_VERSION=4.2.1
pypi_venv "${LOGLAB_CACHE:-$HOME/.cache/loglab}/boto3-$BOTO3_VERSION-pyathena-$PYATHENA_VERSION" \
  pyathena "boto3==$BOTO3_VERSION" "pyathena==$PYATHENA_VERSION"
