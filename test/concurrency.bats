#!/usr/bin/env bats
# Concurrent deploys: several mig-upgrade processes on one database apply
# each migration exactly once, and --lock-timeout bounds the wait.

load test_helper/common

# chain DIR N: N migrations, each creating a table and logging itself in
# applied_log, so a migration applied twice leaves two rows (or fails).
chain() {
	local dir=$1 n=$2 i prev=none id
	mkdir -p "$dir/versions"
	for ((i = 1; i <= n; i++)); do
		id=$(printf 'c%011d' "$i")
		{
			printf -- '-- revision: %s\n-- down_revision: %s\n\n-- +upgrade\n' "$id" "$prev"
			if ((i == 1)); then
				echo "CREATE TABLE applied_log (rev VARCHAR(32) NOT NULL);"
			fi
			echo "CREATE TABLE t$i (id INTEGER PRIMARY KEY);"
			echo "INSERT INTO applied_log (rev) VALUES ('$id');"
			printf -- '\n-- +downgrade\nDROP TABLE t%d;\n' "$i"
		} >"$dir/versions/${id}_step.sql"
		prev=$id
	done
}

# wait_until WHAT CMD...: run CMD every 0.1 s until it succeeds; fail naming
# WHAT after 60 s.  The lock tests start the second process only once the
# first holds the lock, however slowly programs start (valgrind, a busy CI).
wait_until() {
	local what=$1 i
	shift
	for ((i = 0; i < 600; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	fail "waited 60 s, and still not: $what"
}

# pg_holds_advisory_lock URL: a session holds an advisory lock in URL's database.
pg_holds_advisory_lock() {
	[[ $(pg_sql "$1" "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
		WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()") != 0 ]]
}

# eight_at_once URL DB [FLAGS...]: start eight upgrades together; all must
# exit 0 and every migration must be logged once, in applied_log and in
# mig_history.
eight_at_once() {
	local url=$1 db=$2 i fails=0
	shift 2
	chain "$BATS_TEST_TMPDIR/m" 12
	for i in 1 2 3 4 5 6 7 8; do
		mig-upgrade -q -d "$url" -m "$BATS_TEST_TMPDIR/m" "$@" \
			>"$BATS_TEST_TMPDIR/out.$i" 2>&1 &
	done
	for job in $(jobs -p); do wait "$job" || fails=$((fails + 1)); done
	cat "$BATS_TEST_TMPDIR"/out.*
	assert_equal "$fails" 0
	local sql="SELECT count(*) || ' ' || count(DISTINCT rev) FROM applied_log"
	if _mig_is_pg "$db"; then
		assert_equal "$(pg_sql "$db" "$sql")" "12 12"
	else
		assert_equal "$(sqlite_sql "$db" "$sql")" "12 12"
	fi
	assert_equal "$(version_rows "$db")" "c00000000012"
	# mig_history: one 'up' row per applied step, in order, no duplicates.
	assert_equal "$(history_rows "$db")" "$(for i in $(seq 1 12); do printf 'up c%011d\n' "$i"; done)"
}

# A generous connect_timeout (mig's default is 10 s): eight programs under
# valgrind on two cores take longer than that for the SCRAM handshake alone,
# and this file is about locking, not connecting.
patient() { echo "$1?connect_timeout=120"; }

@test "eight upgrades started at once on one PostgreSQL database apply each migration once" {
	require_pg
	url=$(pg_new_db)
	eight_at_once "$(patient "$url")" "$url"
}

@test "eight upgrades started at once on one SQLite file apply each migration once" {
	db=$BATS_TEST_TMPDIR/eight.db
	eight_at_once "$(sqlite_url "$db")" "$db"
}

@test "eight upgrades in transaction lock mode, as behind PgBouncer, apply each migration once" {
	require_pg
	url=$(pg_new_db)
	eight_at_once "$(patient "$url")" "$url" --lock-mode transaction
}

@test "--lock-timeout gives up with exit 4 while another upgrade holds the PostgreSQL lock" {
	require_pg
	url=$(pg_new_db)
	gated_migration "$url" "$BATS_TEST_TMPDIR/slow"
	mig-upgrade -q -d "$url" -m "$BATS_TEST_TMPDIR/slow" &
	wait_until "the first upgrade holds the migration lock" pg_holds_advisory_lock "$url"
	run --separate-stderr mig-upgrade -d "$url" -m "$BATS_TEST_TMPDIR/slow" --lock-timeout 0.5
	pg_sql "$url" "SELECT nextval('gate')" >/dev/null
	assert_failure 4
	[[ $stderr == *"timed out after 0.5 s (--lock-timeout) waiting for the migration lock"* ]]
	wait
	assert_equal "$(version_rows "$url")" "aaaaaaaaaaaa"
}

@test "a lock_timeout from the URL's options is the wait's deadline, and the message says so" {
	require_pg
	url=$(pg_new_db)
	gated_migration "$url" "$BATS_TEST_TMPDIR/slow"
	mig-upgrade -q -d "$url" -m "$BATS_TEST_TMPDIR/slow" &
	wait_until "the first upgrade holds the migration lock" pg_holds_advisory_lock "$url"
	local sep='?'
	[[ $url != *\?* ]] || sep='&'
	run --separate-stderr mig-upgrade -d "${url}${sep}options=-c%20lock_timeout%3D700" \
		-m "$BATS_TEST_TMPDIR/slow"
	pg_sql "$url" "SELECT nextval('gate')" >/dev/null
	assert_failure 4
	[[ $stderr == *"timed out after 0.7 s (lock_timeout from the connection's options: the URL's options= or PGOPTIONS) waiting for the migration lock"* ]] ||
		fail "$stderr"
	wait
	assert_equal "$(version_rows "$url")" "aaaaaaaaaaaa"
}

@test "--lock-timeout gives up with exit 4 while another process writes the SQLite file" {
	db=$BATS_TEST_TMPDIR/busy.db
	held=$BATS_TEST_TMPDIR/held release=$BATS_TEST_TMPDIR/release
	sqlite_sql "$db" "CREATE TABLE other (id INTEGER)"
	# The writer holds its transaction until the test releases it (60 s at most).
	sqlite3 "$db" "BEGIN IMMEDIATE; INSERT INTO other VALUES (1);" \
		".shell touch '$held'; i=0; while [ ! -e '$release' ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done" \
		"COMMIT;" &
	wait_until "the writer holds the SQLite lock" test -e "$held"
	run --separate-stderr mig-upgrade -d "$(sqlite_url "$db")" --lock-timeout 0.5
	touch "$release"
	assert_failure 4
	[[ $stderr == *"timed out after 0.5 s (--lock-timeout) waiting for the database lock held by another process"* ]] || fail "$stderr"
	wait
	assert_equal "$(version_rows "$db")" ""
}

@test "an upgrade and a verify against the same server do not disturb each other" {
	require_pg
	url=$(pg_new_db)
	empty=$(pg_new_db)
	mig-upgrade -q -d "$url" &
	run mig-verify -q -d "$empty" --expect-tables 23
	wait
	assert_success
	assert_equal "$(version_rows "$url")" "b07a366647c3"
	assert_equal "$(version_rows "$empty")" "b07a366647c3"
}
