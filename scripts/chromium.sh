#!/usr/bin/env bash
# Headless Chromium from Debian's packages, for the test that opens a run's report.html in a
# real browser (loglab/tests/integration/report_page.rs). Installs the package when it is
# missing (root, or sudo without a password); prints the browser's path on stdout.
set -euo pipefail
for name in chromium chromium-browser; do
  if command -v "$name" >/dev/null; then
    command -v "$name"
    exit 0
  fi
done
as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if ! sudo -n true 2>/dev/null; then
    echo "chromium.sh: Chromium is not installed and apt-get needs root: run 'sudo apt-get install chromium'" >&2
    exit 1
  fi
  as_root=(sudo -n)
fi
echo "chromium.sh: installing Debian's chromium package (once)" >&2
"${as_root[@]}" apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium >&2
command -v chromium
