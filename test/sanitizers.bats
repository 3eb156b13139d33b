#!/usr/bin/env bats
# sanitizers: the suites that feed the programs bad or hostile input (the
# bad-input catalog, the fuzz regressions, mig-stamp's and mig-check-schema's
# checks) run again against the AddressSanitizer + UBSan build of `make
# asan`, where a memory error, a leak or undefined behaviour makes the test
# that caused it fail.  The rest of the suite runs the plain build: a
# sanitizer build costs about 0.1 s more per program start here, too much
# for every test in CI; `make test-asan` runs the whole suite that way.

load test_helper/common

ASAN_BIN=$REPO/build/asan/bin

setup_file() {
	[[ -x $REPO/build/asan/bin/mig-upgrade ]] ||
		skip "no sanitizer build in build/asan/bin (make asan builds it; make test does)"
}

# under_sanitizers SUITE: runs test/SUITE with the sanitizer build first on
# PATH; fails naming each test that failed there, with its output.
under_sanitizers() {
	run env MIG_BIN="$ASAN_BIN" ASAN_OPTIONS=detect_leaks=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		bats --formatter tap "$REPO/test/$1"
	echo "# $1 under ASan + UBSan: $(grep -c '^ok' <<<"$output") ok, $(grep -c '^not ok' <<<"$output") not ok" >&3
	if ((status != 0)); then
		fail "$(grep -A25 '^not ok' <<<"$output" | head -120)"
	fi
	grep -q '^ok' <<<"$output" || fail "no test of $1 ran: $output"
}

@test "the bad-input catalog passes against the sanitizer build" {
	under_sanitizers bad-input.bats
}

@test "the fuzz regressions pass against the sanitizer build" {
	under_sanitizers fuzz-regressions.bats
}

@test "mig-stamp's suite passes against the sanitizer build" {
	under_sanitizers mig-stamp.bats
}

@test "mig-check-schema's suite passes against the sanitizer build" {
	under_sanitizers mig-check-schema.bats
}
