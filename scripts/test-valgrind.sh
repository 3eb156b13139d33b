#!/usr/bin/env bash
# test-valgrind.sh: the bats suite with every mig-* program under valgrind's
# memcheck (behind `make test-valgrind`, which builds bin/ first).
#
#   scripts/test-valgrind.sh [FILE.bats ...]     (default: the whole suite)
#
# Writes one wrapper per program into build/valgrind/bin that runs bin/mig-X
# under memcheck: a full leak check in which definite, indirect and possible
# leaks count as errors, with test/valgrind.supp for what libraries keep.
# test/run.sh then runs the suite with MIG_BIN pointing there.
#
# Each process reports into a file of its own in build/valgrind/logs, so the
# programs' stdout and stderr stay exactly theirs, and a process with an error
# exits 99.  A test that expects a failure would accept that 99, so after the
# suite every non-empty report is printed and fails the run: the closing line
# "N passed, N failed" stays last only when memcheck found nothing.  The
# reports stay in build/valgrind/logs (empty ones too: one a program run).
#
# Exit status: test/run.sh's; 1 when a report is non-empty; 2 when valgrind
# or the programs are missing.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=$REPO/build/valgrind
supp=$REPO/test/valgrind.supp
programs=(mig-upgrade mig-downgrade mig-status mig-verify mig-check-schema mig-stamp mig-new)

command -v valgrind >/dev/null 2>&1 || {
	echo "test-valgrind: valgrind is not installed (scripts/install-deps.sh installs it)" >&2
	exit 2
}
for p in "${programs[@]}"; do
	[[ -x $REPO/bin/$p ]] || {
		echo "test-valgrind: $REPO/bin/$p is missing; run make first" >&2
		exit 2
	}
done

rm -rf "${dir:?}/bin" "${dir:?}/logs"
mkdir -p "$dir/bin" "$dir/logs"
# Some tests run a program as another user (nobody): it writes its report too.
chmod 1777 "$dir/logs"
for p in "${programs[@]}"; do
	# mktemp: process ids repeat over a long suite, report files must not.
	cat >"$dir/bin/$p" <<EOF
#!/bin/sh
log=\$(mktemp "$dir/logs/$p.XXXXXX") || exit 98
exec valgrind --quiet --error-exitcode=99 --leak-check=full \\
	--show-leak-kinds=definite,indirect,possible \\
	--errors-for-leak-kinds=definite,indirect,possible \\
	--track-fds=no --trace-children=no --num-callers=40 \\
	--suppressions="$supp" --log-file="\$log" "$REPO/bin/$p" "\$@"
EOF
	chmod +x "$dir/bin/$p"
done

suite_rc=0
MIG_BIN=$dir/bin "$REPO/test/run.sh" "$@" || suite_rc=$?

runs=$(find "$dir/logs" -type f | wc -l)
mapfile -t reports < <(find "$dir/logs" -type f -size +0 | LC_ALL=C sort)
if ((${#reports[@]} > 0)); then
	for r in "${reports[@]}"; do
		echo "==== ${r#"$REPO"/}"
		cat "$r"
	done
	echo "test-valgrind: memcheck reported errors in ${#reports[@]} of $runs runs (above)" >&2
	exit 1
fi
exit "$suite_rc"
