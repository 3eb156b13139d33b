#!/usr/bin/env bats
# fuzz-smoke: every libFuzzer target of fuzz/ runs a short while from its
# committed seed corpus (fuzz/run.sh, MIG_FUZZ_SMOKE_SECONDS each, default
# 15) without a crash, a leak, a timeout or a sanitizer report.  `make fuzz`
# is the long run; this one keeps the targets building and the parsers
# sound on every change.

load test_helper/common

setup_file() {
	if ! command -v clang >/dev/null; then
		skip "clang is not installed (scripts/install-deps.sh --test installs it)"
	fi
}

@test "every fuzz target runs its smoke time from its seed corpus without a finding" {
	local seconds=${MIG_FUZZ_SMOKE_SECONDS:-15}
	run --separate-stderr "$REPO/fuzz/run.sh" "$seconds"
	# the figures, for the log: one line per target with its executions
	printf '# %s\n' "${lines[@]}" >&3
	assert_success
	assert_line "run.sh: $(find "$REPO/fuzz" -maxdepth 1 -name 'fuzz_*.c' | wc -l) targets ok"
	refute_output --partial "FAILED"
}
