#!/usr/bin/env bash
# Removes stale test and binary executables from the cargo target dir (debug and release) (for each name
# and crate root, only the newest build is kept) and stale library builds (the newest three per crate). Builds with other feature sets or dependency versions leave
# ~800 MB debug executables behind, and a CI target dir that lives across runs fills the disk.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-target}
for DEPS in "$TARGET/debug/deps" "$TARGET/release/deps"; do
[ -d "$DEPS" ] || continue
python3 - "$DEPS" <<'PY'
import collections, os, sys
deps = sys.argv[1]
def root_source(path):
    # The dep-info file beside an executable names its crate root first: the five crates'
    # `integration` test executables (and a binary beside its own unit tests) share a name.
    try:
        with open(path + ".d") as info:
            first = info.readline()
    except OSError:
        return ""
    sources = first.split(":", 1)[1].split() if ":" in first else []
    return sources[0] if sources else ""
groups = collections.defaultdict(list)
for name in os.listdir(deps):
    path = os.path.join(deps, name)
    if os.path.isfile(path) and os.access(path, os.X_OK) and "-" in name and not name.endswith((".so", ".rlib", ".rmeta", ".d")):
        groups[(name.rsplit("-", 1)[0], root_source(path))].append((os.path.getmtime(path), path))
freed = 0
for builds in groups.values():
    for _, path in sorted(builds)[:-1]:
        freed += os.path.getsize(path)
        os.remove(path)
# Libraries: a dependency built with another feature set (a workspace dependency change) or
# version leaves its old .rlib/.rmeta behind; keep the newest three builds of each crate
# (normal, build-script and test feature sets may legitimately coexist).
libs = collections.defaultdict(list)
for name in os.listdir(deps):
    if name.endswith((".rlib", ".rmeta")) and "-" in name:
        stem, ext = name.rsplit(".", 1)
        libs[(stem.rsplit("-", 1)[0], ext)].append((os.path.getmtime(os.path.join(deps, name)), name))
for builds in libs.values():
    for _, name in sorted(builds)[:-3]:
        path = os.path.join(deps, name)
        freed += os.path.getsize(path)
        os.remove(path)
print(f"prune-target: freed {freed / 1e9:.1f} GB of stale executables and libraries in {deps}", file=sys.stderr)
PY
done
