#!/usr/bin/env bats
# analyze: the static analyzers of `make analyze` (cppcheck and clang-tidy
# with .clang-tidy) find nothing in tools/.  Part of the suite so that CI,
# which runs the suite, runs them on every change.

load test_helper/common

setup_file() {
	for tool in cppcheck clang-tidy; do
		command -v "$tool" >/dev/null ||
			skip "$tool is not installed (scripts/install-deps.sh --test installs it)"
	done
}

@test "make analyze: cppcheck and clang-tidy report nothing in tools/" {
	run --separate-stderr make -s -C "$REPO" analyze
	printf '# %s\n' "${lines[@]}" "${stderr_lines[@]}" >&3
	assert_success
	refute_output --partial "error:"
	refute_output --partial "warning:"
}
