#!/usr/bin/env bats
# fuzz-regressions: every input that made a fuzz target (fuzz/fuzz_*.c) crash,
# leak, trip a sanitizer or break a parser's contract, run through the real
# program. The inputs are in test/fixtures/fuzz_regressions/TARGET/, as
# libFuzzer minimized them (URLs made to point at 127.0.0.1 port 1, where
# nothing listens, and to carry a password that can be searched for).
#
# The suite runs against the sanitizer build (use_sanitizer_build): a
# regression shows as a report on stderr and exit status 86.

load test_helper/common
use_sanitizer_build

FUZZ_FIXTURES=$REPO/test/fixtures/fuzz_regressions

# lint_file TARGET FILE: runs mig-verify --lint-only on a migrations folder
# whose versions/ holds only that fixture.
lint_file() {
	local dir=$BATS_TEST_TMPDIR/migrations
	mkdir -p "$dir/versions"
	cp "$FUZZ_FIXTURES/$1/$2" "$dir/versions/"
	run --separate-stderr mig-verify --lint-only -m "$dir"
}

# status_url FILE: runs mig-status on the URL saved in fuzz_url/FILE.
status_url() {
	run --separate-stderr mig-status -d "$(<"$FUZZ_FIXTURES/fuzz_url/$1")"
}

refute_sanitizer_report() {
	refute_regex "$stderr" 'Sanitizer|runtime error|double free|free\(\)'
}

refute_secret() {
	refute_regex "$output" 'S3CRET|PART2'
	refute_regex "$stderr" 'S3CRET|PART2'
}

@test "a migration file holding a NUL byte is reported at line 1, not line 0" {
	lint_file fuzz_migfile nul-byte.sql
	assert_failure 2
	assert_line "$BATS_TEST_TMPDIR/migrations/versions/nul-byte.sql:1: error: binary data (a NUL byte) in a migration file"
	assert_line --partial "verify: FAILED, 1 error, 0 warnings"
	[[ $stderr == *"nul-byte.sql:1: binary data (a NUL byte) in a migration file"* ]]
	refute_regex "$stderr" ': : '
	refute_sanitizer_report
}

@test "an Alembic script with a non-string after a comma is reported, not freed twice" {
	lint_file fuzz_pyrev double-free-after-comma.py
	assert_failure 2
	assert_line "$BATS_TEST_TMPDIR/migrations/versions/double-free-after-comma.py:1: error: expected a string after ','"
	refute_sanitizer_report
}

@test "a bare name after a comma in down_revision is reported at its line, not freed twice" {
	lint_file fuzz_pyrev double-free-bare-name.py
	assert_failure 2
	assert_line "$BATS_TEST_TMPDIR/migrations/versions/double-free-bare-name.py:2: error: expected a string after ','"
	refute_sanitizer_report
}

@test "a docstring with two Revises: lines leaks nothing" {
	lint_file fuzz_pyrev leak-two-revises.py
	assert_failure 2
	assert_line "$BATS_TEST_TMPDIR/migrations/versions/leak-two-revises.py:1: error: no 'revision = ...' assignment"
	refute_sanitizer_report
}

# graph.c walked g->revs + 0 with g->revs NULL: undefined behaviour that
# clang's UBSan reports (gcc's does not), so this one shows under CC=clang.
# An empty folder is bad input since issue 16 (a CI job pointed at the
# wrong folder must not pass): exit 2, after the graph was built.
@test "an empty versions folder is refused (exit 2) without undefined behaviour" {
	run --separate-stderr mig-verify --lint-only -m "$FUZZ_FIXTURES/fuzz_graph/empty"
	assert_failure 2
	assert_output ""
	[[ $stderr == *"fuzz_graph/empty/versions holds no migrations"* ]] || fail "$stderr"
	refute_sanitizer_report
}

@test "a password given both before @ and as ?password= is masked in both places" {
	status_url password-in-userinfo-and-query.url
	assert_failure 3
	[[ $stderr == *"cannot connect to postgresql://u:***@127.0.0.1:1/db:"* ]]
	refute_secret
	refute_sanitizer_report
}

@test "a ?password= after an empty password before @ is masked" {
	status_url empty-userinfo-password.url
	assert_failure 3
	refute_secret
	refute_sanitizer_report
}

@test "a password holding an unencoded ? is masked whole, as libpq reads it" {
	status_url question-mark-in-password.url
	assert_failure 3
	[[ $stderr == *"cannot connect to postgresql://u:***@127.0.0.1:1/db:"* ]]
	refute_secret
	refute_sanitizer_report
}

@test "a ?password= value holding # is masked whole, as libpq reads it" {
	status_url hash-in-query-password.url
	assert_failure 3
	refute_secret
	refute_sanitizer_report
}

@test "a percent-encoded password key (pass%77ord=) is masked too" {
	status_url encoded-password-key.url
	assert_failure 3
	refute_secret
	refute_sanitizer_report
}

# The URL every message prints is rebuilt from libpq's parse: a host or a
# port holding '@' (percent-encoded in the URL) was printed raw, and the
# printed URL read back as one with a password.
@test "a host holding an encoded @ and : is printed encoded, not as user and password" {
	status_url at-sign-in-host.url
	assert_failure 3
	[[ $stderr == *"cannot connect to postgresql://u@h%40pw%3Aw:1/db:"* ]] ||
		fail "the host is not printed percent-encoded: $stderr"
	refute_sanitizer_report
}

@test "a port that is not a number is bad input (exit 2), checked before connecting" {
	# "u:PASSWORD" with no "@host" reads as host u, port PASSWORD: not quoted
	status_url at-sign-in-port.url
	assert_failure 2
	[[ $stderr == *'malformed PostgreSQL URL: the port is not a number from 1 to 65535'* ]] ||
		fail "unexpected message: $stderr"
	[[ $stderr != *'p@ss'* && $stderr != *'rd%'* ]] || fail "the password is shown: $stderr"
	refute_sanitizer_report
}

# Found while writing the fuzz_url oracle rather than by a run: the message
# for text without "://" quotes the text whole.
@test "a URL missing a slash of :// is refused without printing its password" {
	status_url missing-slash.url
	assert_failure 2
	assert_output ""
	[[ $stderr == *"the database URL has no scheme://"* ]]
	refute_secret
	refute_sanitizer_report
}
