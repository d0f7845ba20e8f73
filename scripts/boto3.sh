#!/usr/bin/env bash
# boto3 (from PyPI, into a cached venv): the Python client our users have, for the tests that
# prove the harness's AWS stand-ins answer it (the Glue Data Catalog). Prints the venv's python
# on stdout.
set -euo pipefail
# shellcheck source=lib/pypi-venv.sh
source "$(dirname "$0")/lib/pypi-venv.sh"
BOTO3_VERSION=1.44.18
pypi_venv "${LOGLAB_CACHE:-$HOME/.cache/loglab}/boto3-$BOTO3_VERSION" boto3 "boto3==$BOTO3_VERSION"
