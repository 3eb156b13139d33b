#!/bin/bash
# graph-memory.sh [N]: peak memory of the revision graph for five shapes of
# N revisions (default 100000), measured with /usr/bin/time -v: loading and
# linting it (mig-verify --lint-only) and planning on it (mig-status on an
# empty SQLite file).  Each run is capped at 2 GB (ulimit -v) and 300 s so a
# quadratic shape cannot take the machine down; "rc=134" means it hit the cap.
# The figures are quoted in the closing note of issue 16.
set -eu
N=${1:-100000}
BIN=${MIG_BIN:-$(dirname "$0")/../bin}
BIN=$(cd "$BIN" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" "$N" <<'PY'
import os, sys
out, n = sys.argv[1], int(sys.argv[2])
def shape(name, downs):
    d = os.path.join(out, name, "versions")
    os.makedirs(d)
    for i, down in enumerate(downs):
        with open(os.path.join(d, "r%06d_x.sql" % i), "w") as f:
            f.write("-- revision: r%06d\n-- down_revision: %s\n\n-- +upgrade\nSELECT 1;\n\n-- +downgrade\nSELECT 1;\n" % (i, down))
r = lambda i: "r%06d" % i
shape("chain", ["none"] + [r(i - 1) for i in range(1, n)])
shape("forest", ["none" if i % 2 == 0 else r(i - 1) for i in range(n)])
shape("bases", ["none"] * n)
shape("wide", ["none"] * (n - 1) + [", ".join(r(i) for i in range(n - 1))])
shape("tree", ["none"] + [r((i - 1) // 2) for i in range(1, n)])
PY
sqlite3 "$dir/empty.db" "PRAGMA user_version = 1"
for s in chain forest bases wide tree; do
	for what in lint plan; do
		if [ $what = lint ]; then
			set -- "$BIN/mig-verify" --lint-only --allow-multiple-heads -m "$dir/$s"
		else
			set -- "$BIN/mig-status" -d "sqlite:///$dir/empty.db" -m "$dir/$s"
		fi
		rc=0
		(ulimit -v 2097152 && timeout 300 /usr/bin/time -v "$@" >/dev/null 2>"$dir/time") || rc=$?
		printf '%-7s %-5s rc=%-3s %s MB, %s\n' "$s" "$what" "$rc" \
			"$(awk '/Maximum resident/ { printf "%.0f", $NF / 1024 }' "$dir/time")" \
			"$(awk -F': ' '/Elapsed/ { print $2 }' "$dir/time")"
	done
done
