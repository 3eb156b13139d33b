#!/usr/bin/env bash
# test/run.sh: the test runner behind `make test`.
#
#   test/run.sh [FILE.bats ...]     (default: every test/*.bats, sorted)
#
# Starts one throwaway PostgreSQL cluster (scripts/pg-sandbox.sh), exports its
# MIG_PG_* settings and MIG_TEST_PG_DIR to the suites, runs bats with TAP output
# streamed as it comes, always stops the cluster (also on failure, Ctrl-C or
# TERM) and ends with one line "N passed, N failed" (", N skipped" when some
# were). Exits 0 only when nothing failed and at least one test ran.
#
# Environment: MIG_BIN (directory of the mig-* programs, default $REPO/bin);
# MIG_ASAN_BIN (the AddressSanitizer + UBSan build, for the suites that call
# use_sanitizer_build; unset: they run MIG_BIN too);
# MIG_TEST_NO_PG=1 runs without PostgreSQL (tests that need it are skipped);
# MIG_TEST_JOBS=N runs N tests at a time (default: the number of CPUs).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export REPO
export MIG_BIN=${MIG_BIN:-$REPO/bin}

if (($# > 0)); then
	files=("$@")
else
	mapfile -t files < <(LC_ALL=C find "$REPO/test" -maxdepth 1 -name '*.bats' | LC_ALL=C sort)
fi
if ((${#files[@]} == 0)); then
	echo "run.sh: no test files found in $REPO/test" >&2
	echo "0 passed, 0 failed"
	exit 1
fi
for f in "${files[@]}"; do
	if [[ ! -f $f ]]; then
		echo "run.sh: no such test file: $f" >&2
		echo "0 passed, 0 failed"
		exit 2
	fi
done

if ! command -v bats >/dev/null 2>&1; then
	echo "run.sh: bats not found; run scripts/install-deps.sh" >&2
	echo "0 passed, 0 failed"
	exit 2
fi

# For a sanitizer build: a finding exits 86, a code no mig program uses, so
# that a test expecting 0 to 4 fails on it (their default, 1, means "the
# check found problems"); leaks count.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:exitcode=86}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=86}
if [[ -n ${MIG_ASAN_BIN:-} ]]; then
	[[ -x $MIG_ASAN_BIN/mig-upgrade ]] || {
		echo "run.sh: MIG_ASAN_BIN=$MIG_ASAN_BIN has no mig-upgrade (make asan builds it)" >&2
		echo "0 passed, 0 failed"
		exit 2
	}
	echo "# the suites that call use_sanitizer_build run $MIG_ASAN_BIN; the rest $MIG_BIN"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mig-test.XXXXXX")
pg_dir=''
bats_pid=''
tee_pid=''

# shellcheck disable=SC2317 # invoked by the EXIT trap, not unreachable
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	if [[ -n $bats_pid ]] && kill -0 "$bats_pid" 2>/dev/null; then
		# bats runs in its own session: end it and every test process under it.
		kill -TERM -- "-$bats_pid" 2>/dev/null || kill -TERM "$bats_pid" 2>/dev/null || true
		sleep 0.2
		kill -KILL -- "-$bats_pid" 2>/dev/null || true
	fi
	if [[ -n $tee_pid ]]; then
		kill "$tee_pid" 2>/dev/null || true
	fi
	if [[ -n $pg_dir ]]; then
		"$REPO/scripts/pg-sandbox.sh" stop "$pg_dir" ||
			echo "run.sh: could not stop the PostgreSQL sandbox in $pg_dir" >&2
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ ${MIG_TEST_NO_PG:-} == 1 ]]; then
	echo "# MIG_TEST_NO_PG=1: no PostgreSQL sandbox; tests that need it are skipped"
	unset MIG_PG_HOST MIG_PG_PORT MIG_PG_USER MIG_PG_PASSWORD MIG_PG_BINDIR \
		MIG_PG_URL_BASE MIG_TEST_PG_DIR
else
	# Short path: the server's unix socket lives in it (sun_path is 107 bytes).
	pg_dir=$(mktemp -d /tmp/mig-pg.XXXXXX)
	started=$(date +%s%N)
	if ! env_file=$("$REPO/scripts/pg-sandbox.sh" start "$pg_dir"); then
		echo "run.sh: the PostgreSQL sandbox did not start (MIG_TEST_NO_PG=1 runs without it)" >&2
		echo "0 passed, 0 failed"
		exit 1
	fi
	# shellcheck source=/dev/null
	. "$env_file"
	export MIG_TEST_PG_DIR=$pg_dir
	echo "# PostgreSQL sandbox on 127.0.0.1:$MIG_PG_PORT and $MIG_PG_HOST" \
		"(started in $((($(date +%s%N) - started) / 1000000)) ms)"
fi

# Two tests at a time on two cores (MIG_TEST_JOBS=N to choose): most of a
# test's time is spent starting processes (python3, psql, the programs), not
# waiting for one another.  bats needs GNU parallel for it.
njobs=${MIG_TEST_JOBS:-$(nproc 2>/dev/null || echo 1)}
jobs=()
if ((njobs > 1)) && command -v parallel >/dev/null 2>&1; then
	jobs=(--jobs "$njobs")
fi

# bats runs in the background, in a session of its own, so that a signal to
# this script is handled at once (and reaches every test process) instead of
# waiting for the suite to finish. Its output is streamed and kept for counting.
tap=$work/tap
mkfifo "$work/fifo"
tee "$tap" <"$work/fifo" &
tee_pid=$!
setsid bats --formatter tap --timing "${jobs[@]}" "${files[@]}" </dev/null >"$work/fifo" 2>&1 &
bats_pid=$!
bats_rc=0
wait "$bats_pid" || bats_rc=$?
bats_pid=''
wait "$tee_pid" || true
tee_pid=''

passed=0 failed=0 skipped=0
skip_re='^ok [0-9]+ .* # [Ss][Kk][Ii][Pp]([ :(]|$)'
ok_re='^ok [0-9]+'
not_ok_re='^not ok [0-9]+'
while IFS= read -r line; do
	if [[ $line =~ $skip_re ]]; then
		skipped=$((skipped + 1))
	elif [[ $line =~ $ok_re ]]; then
		passed=$((passed + 1))
	elif [[ $line =~ $not_ok_re ]]; then
		failed=$((failed + 1))
	fi
done <"$tap"

summary="$passed passed, $failed failed"
if ((skipped > 0)); then summary+=", $skipped skipped"; fi

status=0
if ((failed > 0)); then
	status=1
elif ((passed == 0)); then
	echo "run.sh: no test ran" >&2
	status=1
elif ((bats_rc != 0)); then
	echo "run.sh: bats exited with status $bats_rc" >&2
	status=1
fi
echo "$summary"
exit "$status"
