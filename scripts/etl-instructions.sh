#!/usr/bin/env bash
# Instructions per ETL payload, counted by valgrind's callgrind, for one or two builds of the
# ETL bench: a repeatable comparison where wall-clock figures are noisy (a shared machine).
#
#   cargo bench -p benches --bench etl --no-run     # prints the bench binary's path
#   cp <that path> /tmp/etl-before                   # ... change the code, build again ...
#   scripts/etl-instructions.sh /tmp/etl-before target/release/deps/etl-<hash>
#
# The bench's blueprint comparison runs the full path (base64, gunzip, parse, rows, batches)
# COMPARISON_PASSES (7) times per payload, in the order of its workloads; callgrind counts
# only inside `full_path` and dumps after each call, and the least count of each payload's
# passes is printed (the first pass also grows the buffers). Criterion's own runs are skipped
# with a filter that matches nothing. Instructions are not time (SIMD, cache misses), so the
# criterion bench stays the measure; this says which way a change goes, and by how much work.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "etl-instructions: valgrind is not installed" >&2; exit 1; }
[ $# -ge 1 ] || { echo "usage: $0 BENCH_BINARY [BENCH_BINARY]" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
index=0
for bin in "$@"; do
  index=$((index + 1))
  name="$index-$(basename "$bin")"
  CARGO_MANIFEST_DIR="$PWD/benches" valgrind --tool=callgrind --compress-strings=no \
    --toggle-collect='etl::full_path' --dump-after='etl::full_path' \
    --callgrind-out-file="$out/$name.out" "$bin" --bench 'no criterion bench matches this' \
    >/dev/null 2>&1
  python3 - "$out" "$name" <<'PY'
import glob, sys
out, name = sys.argv[1], sys.argv[2]
totals = {}
for path in glob.glob(f"{out}/{name}.out.*"):
    with open(path) as f:
        for line in f:
            if line.startswith("totals:"):
                totals[int(path.rsplit(".", 1)[1])] = int(line.split()[1])
                break
dumps = [totals[k] for k in sorted(totals)]
payloads = ["linux_messages", "openssh_secure", "windows_cbs_unparsed", "windows_event_xml"]
passes = len(dumps) // len(payloads)
if passes == 0 or len(dumps) % len(payloads):
    sys.exit(f"etl-instructions: {len(dumps)} dumps, expected a multiple of {len(payloads)}")
counts = [min(dumps[i * passes:(i + 1) * passes]) for i in range(len(payloads))]
with open(f"{out}/{name}.counts", "w") as f:
    f.write(" ".join(map(str, counts)))
print(name + ": " + ", ".join(f"{p} {c / 1e6:.2f}M" for p, c in zip(payloads, counts)))
PY
done
if [ $# -eq 2 ]; then
  python3 - "$out/1-$(basename "$1").counts" "$out/2-$(basename "$2").counts" <<'PY'
import sys
before = list(map(int, open(sys.argv[1]).read().split()))
after = list(map(int, open(sys.argv[2]).read().split()))
payloads = ["linux_messages", "openssh_secure", "windows_cbs_unparsed", "windows_event_xml"]
print("second / first: " + ", ".join(f"{p} {a / b:.3f}" for p, a, b in zip(payloads, after, before)))
PY
fi
