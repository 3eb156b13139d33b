#!/usr/bin/env bats
# mig behind a real PgBouncer in transaction pooling mode: it sees the
# pooler, locks in each migration's transaction without being told, and
# refuses a session lock that would leak to the pooler's next client.

load test_helper/common
load test_helper/poolers

setup_file() {
	[[ -n ${MIG_PG_PORT:-} ]] || return 0
	command -v pgbouncer >/dev/null 2>&1 || [[ -x /usr/sbin/pgbouncer ]] || return 0
	pgbouncer_start
}

teardown_file() {
	pgbouncer_stop
}

setup() {
	require_pg
	[[ -n ${MIG_PGB_PORT:-} ]] || skip "needs PgBouncer (Debian package pgbouncer; scripts/install-deps.sh installs it)"
}

# chain DIR N: N migrations, each creating a table and logging itself in
# applied_log, so a migration applied twice leaves two rows (or fails).
chain() {
	local dir=$1 n=$2 i prev=none id
	mkdir -p "$dir/versions"
	for ((i = 1; i <= n; i++)); do
		id=$(printf 'p%011d' "$i")
		{
			printf -- '-- revision: %s\n-- down_revision: %s\n\n-- +upgrade\n' "$id" "$prev"
			if ((i == 1)); then
				echo "CREATE TABLE applied_log (rev VARCHAR(32) NOT NULL);"
			fi
			echo "CREATE TABLE t$i (id INTEGER PRIMARY KEY);"
			echo "INSERT INTO applied_log (rev) VALUES ('$id');"
			printf -- '\n-- +downgrade\nDROP TABLE t%d;\nDELETE FROM applied_log WHERE rev = '"'"'%s'"'"';\n' "$i" "$id"
		} >"$dir/versions/${id}_step.sql"
		prev=$id
	done
}

# advisory_locks URL: advisory locks held in URL's database, by anyone.
advisory_locks() {
	pg_sql "$1" "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
		WHERE l.locktype = 'advisory' AND d.datname = current_database()"
}

@test "eight upgrades at once through PgBouncer with the default flags apply each migration once and all exit 0" {
	url=$(pg_new_db)
	pgb=$(pgbouncer_url "$url")
	m=$BATS_TEST_TMPDIR/m
	chain "$m" 12
	for i in 1 2 3 4 5 6 7 8; do
		# A generous bound, not a timing assertion: a run that hangs on a
		# leaked lock (as before mig saw the pooler) is killed and counted.
		timeout 300 mig-upgrade -d "$pgb" -m "$m" >"$BATS_TEST_TMPDIR/out.$i" 2>&1 &
	done
	fails=0
	for job in $(jobs -p); do wait "$job" || fails=$((fails + 1)); done
	cat "$BATS_TEST_TMPDIR"/out.*
	assert_equal "$fails" 0
	assert_equal "$(pg_sql "$url" "SELECT count(*) || ' ' || count(DISTINCT rev) FROM applied_log")" "12 12"
	assert_equal "$(version_rows "$url")" "p00000000012"
	# every run said how it locked
	assert_equal "$(grep -l 'a connection pooler answers at' "$BATS_TEST_TMPDIR"/out.* | wc -l)" 8
	# and nothing stays locked on the pooled server connections
	assert_equal "$(advisory_locks "$url")" 0
}

@test "--lock-mode session through PgBouncer is refused with the reason: exit 4, nothing changed, no lock left" {
	url=$(pg_new_db)
	m=$BATS_TEST_TMPDIR/m
	chain "$m" 2
	run --separate-stderr mig-upgrade -d "$(pgbouncer_url "$url")" -m "$m" --lock-mode session
	assert_failure 4
	assert_output ''
	assert_equal "$stderr" "$(printf '%s\n' "${stderr_lines[@]}")"
	[[ $stderr == *"--lock-mode session: a connection pooler answers at"* ]] || fail "no reason: $stderr"
	[[ $stderr == *"a session lock taken through a transaction pooler stays on a pooled server connection"* ]] || fail "$stderr"
	[[ $stderr == *"hint: drop --lock-mode"* ]] || fail "$stderr"
	assert_equal "$(count_tables "$url")" 0
	assert_equal "$(version_rows "$url")" ""
	assert_equal "$(advisory_locks "$url")" 0
}

@test "mig-stamp and mig-downgrade through PgBouncer lock per transaction too, and --lock-mode session is refused for them" {
	url=$(pg_new_db)
	pgb=$(pgbouncer_url "$url")
	m=$BATS_TEST_TMPDIR/m
	chain "$m" 3
	run mig-upgrade -d "$pgb" -m "$m" --to p00000000002
	assert_success
	run --separate-stderr mig-downgrade -d "$pgb" -m "$m" --to p00000000001 --lock-mode session
	assert_failure 4
	[[ $stderr == *"--lock-mode session: a connection pooler answers"* ]] || fail "$stderr"
	assert_equal "$(version_rows "$url")" "p00000000002"
	run --separate-stderr mig-downgrade -d "$pgb" -m "$m" --to p00000000001
	assert_success
	[[ $stderr == *"a connection pooler answers at"* ]] || fail "$stderr"
	assert_equal "$(version_rows "$url")" "p00000000001"
	assert_equal "$(pg_sql "$url" "SELECT string_agg(rev, ' ' ORDER BY rev) FROM applied_log")" "p00000000001"
	pg_sql "$url" "DELETE FROM alembic_version"
	run --separate-stderr mig-stamp -d "$pgb" -m "$m" p00000000001 --lock-mode session
	assert_failure 4
	assert_equal "$(version_rows "$url")" ""
	run mig-stamp -d "$pgb" -m "$m" p00000000001
	assert_success
	assert_output --partial "alembic_version: p00000000001"
	assert_equal "$(version_rows "$url")" "p00000000001"
	assert_equal "$(advisory_locks "$url")" 0
}

@test "-q keeps the pooler note quiet; --lock-mode transaction through PgBouncer works without it" {
	url=$(pg_new_db)
	pgb=$(pgbouncer_url "$url")
	m=$BATS_TEST_TMPDIR/m
	chain "$m" 2
	run --separate-stderr mig-upgrade -q -d "$pgb" -m "$m" --to p00000000001
	assert_success
	assert_equal "$stderr" ""
	run --separate-stderr mig-upgrade -d "$pgb" -m "$m" --lock-mode transaction
	assert_success
	[[ $stderr != *pooler* ]] || fail "a note although the mode was chosen: $stderr"
	assert_equal "$(version_rows "$url")" "p00000000002"
}

@test "mig-status through PgBouncer reads the state and takes no lock" {
	url=$(pg_new_db)
	m=$BATS_TEST_TMPDIR/m
	chain "$m" 2
	run mig-upgrade -q -d "$url" -m "$m" --to p00000000001
	assert_success
	run mig-status -d "$(pgbouncer_url "$url")" -m "$m"
	assert_success
	assert_output --partial "p00000000001"
	assert_output --partial "p00000000002"
}

@test "a direct connection keeps the session lock and says nothing about poolers" {
	url=$(pg_new_db)
	m=$BATS_TEST_TMPDIR/m
	chain "$m" 2
	run --separate-stderr mig-upgrade -d "$url" -m "$m" --lock-mode session
	assert_success
	[[ $stderr != *pooler* ]] || fail "$stderr"
	assert_equal "$(version_rows "$url")" "p00000000002"
}

@test "mig-verify -d through PgBouncer applies everything with the per-transaction lock, and -q keeps it quiet" {
	url=$(pg_new_db)
	m=$BATS_TEST_TMPDIR/m
	chain "$m" 3
	run --separate-stderr mig-verify -d "$(pgbouncer_url "$url")" -m "$m"
	assert_success
	[[ $stderr == *"a connection pooler answers at"* ]] || fail "$stderr"
	url=$(pg_new_db)
	run --separate-stderr mig-verify -q -d "$(pgbouncer_url "$url")" -m "$m"
	assert_success
	[[ $stderr != *pooler* ]] || fail "$stderr"
	assert_equal "$(advisory_locks "$url")" 0
}

@test "through PgBouncer the per-transaction lock excludes a second run: --lock-timeout gives up with exit 4, and the first finishes" {
	url=$(pg_new_db)
	pgb=$(pgbouncer_url "$url")
	gated_migration "$url" "$BATS_TEST_TMPDIR/slow"
	mig-upgrade -q -d "$pgb" -m "$BATS_TEST_TMPDIR/slow" &
	first=$!
	for _ in $(seq 600); do
		[[ $(advisory_locks "$url") == 1 ]] && break
		sleep 0.1
	done
	assert_equal "$(advisory_locks "$url")" 1
	run --separate-stderr mig-upgrade -d "$pgb" -m "$BATS_TEST_TMPDIR/slow" --lock-timeout 0.5
	pg_sql "$url" "SELECT nextval('gate')" >/dev/null
	assert_failure 4
	[[ $stderr == *"timed out after 0.5 s (--lock-timeout) waiting for the migration lock"* ]] || fail "$stderr"
	wait "$first"
	assert_equal "$(version_rows "$url")" aaaaaaaaaaaa
	assert_equal "$(advisory_locks "$url")" 0
	# the timeout stayed in the transaction that set it: the pooled server
	# connections that the next clients get do not keep it
	for _ in 1 2 3 4 5; do
		assert_equal "$("$MIG_PG_BINDIR/psql" -X -At -h "$MIG_PGB_DIR" -p "$MIG_PGB_PORT" -U "$MIG_PG_USER" \
			-d "$(_mig_pg_dbname "$url")" -c 'SHOW lock_timeout')" 0
	done
}
