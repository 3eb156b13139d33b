#!/usr/bin/env bats
# --no-lock: the dangerous way out for servers whose advisory locks lock
# nothing (CockroachDB).  It takes no advisory lock, says so, and cannot be
# combined with --lock-mode.  Each lock mode is checked by what the
# migration itself sees in pg_locks while it runs.

load test_helper/common

# seen_locks DIR: one migration that records how many advisory locks its
# own session holds while it runs.
seen_locks() {
	mkdir -p "$1/versions"
	cat >"$1/versions/aaaaaaaaaaaa_seen.sql" <<-'SQL'
		-- revision: aaaaaaaaaaaa
		-- down_revision: none

		-- +upgrade
		CREATE TABLE seen (n INTEGER NOT NULL);

		-- +upgrade postgresql
		INSERT INTO seen (n) SELECT count(*) FROM pg_locks
		WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid();

		-- +upgrade sqlite
		INSERT INTO seen (n) VALUES (0);

		-- +downgrade
		DROP TABLE seen;
	SQL
}

@test "PostgreSQL: each lock mode holds the advisory lock the migration sees, --no-lock none, and warns" {
	require_pg
	seen_locks "$BATS_TEST_TMPDIR/m"
	for flags in "" "--lock-mode session" "--lock-mode transaction" "--no-lock"; do
		url=$(pg_new_db)
		# shellcheck disable=SC2086 # flags is a list of words
		run --separate-stderr mig-upgrade -d "$url" -m "$BATS_TEST_TMPDIR/m" $flags
		assert_success
		expected=1
		[[ $flags == --no-lock ]] && expected=0
		assert_equal "$flags: $(pg_sql "$url" "SELECT n FROM seen")" "$flags: $expected"
		assert_equal "$(version_rows "$url")" aaaaaaaaaaaa
		if [[ $flags == --no-lock ]]; then
			[[ $stderr == *"--no-lock: running without the migration lock; a deploy started meanwhile could apply a migration twice"* ]] ||
				fail "no warning: $stderr"
		else
			[[ $stderr != *"without the migration lock"* ]] || fail "$flags: $stderr"
		fi
	done
}

@test "PostgreSQL: -q silences the --no-lock warning, not the run" {
	require_pg
	seen_locks "$BATS_TEST_TMPDIR/m"
	url=$(pg_new_db)
	run --separate-stderr mig-upgrade -q --no-lock -d "$url" -m "$BATS_TEST_TMPDIR/m"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(version_rows "$url")" aaaaaaaaaaaa
}

@test "SQLite: --no-lock changes nothing there: each migration still takes the write lock of its transaction" {
	seen_locks "$BATS_TEST_TMPDIR/m"
	db=$BATS_TEST_TMPDIR/a.db
	run --separate-stderr mig-upgrade --no-lock -d "$(sqlite_url "$db")" -m "$BATS_TEST_TMPDIR/m"
	assert_success
	assert_equal "$(no_progress <<<"$stderr")" ""
	assert_equal "$(sqlite_sql "$db" "SELECT n FROM seen")" 0
	assert_equal "$(version_rows "$db")" aaaaaaaaaaaa
}

@test "--no-lock with --lock-mode is bad usage on both dialects: exit 2, nothing touched" {
	seen_locks "$BATS_TEST_TMPDIR/m"
	db=$BATS_TEST_TMPDIR/a.db
	for order in "--no-lock --lock-mode transaction" "--lock-mode session --no-lock"; do
		# shellcheck disable=SC2086 # order is a list of words
		run --separate-stderr mig-upgrade -d "$(sqlite_url "$db")" -m "$BATS_TEST_TMPDIR/m" $order
		assert_failure 2
		[[ $stderr == *"--no-lock and --lock-mode contradict each other; pass one"* ]] || fail "$stderr"
		[[ ! -e $db ]] || fail "the SQLite file was created"
	done
	require_pg
	url=$(pg_new_db)
	run --separate-stderr mig-stamp aaaaaaaaaaaa -d "$url" -m "$BATS_TEST_TMPDIR/m" --no-lock --lock-mode session
	assert_failure 2
	[[ $stderr == *"contradict"* ]] || fail "$stderr"
	assert_equal "$(count_tables "$url")" 0
}
