#!/usr/bin/env bats
# Work you can watch (issue 22): the progress line before each migration and
# its time after it, the heartbeat of a long statement, and the lock-wait
# line that names who holds the lock.  Each test reads the program's stderr
# while the program still runs, held by a real second process or session
# that the test lets go only after it has read what it waits for.

load test_helper/common

# wait_for WHAT CMD...: run CMD every 0.1 s until it succeeds; fail naming
# WHAT (and the program's stderr so far) after 60 s.
wait_for() {
	local what=$1 i
	shift
	for ((i = 0; i < 600; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	fail "waited 60 s, and still not: $what; stderr: $(cat "$BATS_TEST_TMPDIR/err" 2>/dev/null)"
}

# said TEXT: the background program's stderr holds TEXT.
said() {
	grep -qF -- "$1" "$BATS_TEST_TMPDIR/err"
}

# still_running PID: the program has not exited yet.
still_running() {
	kill -0 "$1" 2>/dev/null || fail "the program had already exited: $(cat "$BATS_TEST_TMPDIR/err")"
}

# two_step_sqlite DIR: DIR/versions with a fast first and a second migration.
two_step() {
	make_migrations "$1"
	cat >"$1/versions/aaaaaaaaaaaa_first.sql" <<-'SQL'
		-- revision: aaaaaaaaaaaa
		-- down_revision: none
		-- message: create target

		-- +upgrade
		CREATE TABLE target (id integer);

		-- +downgrade
		DROP TABLE target;
	SQL
	cat >"$1/versions/bbbbbbbbbbbb_second.sql" <<-'SQL'
		-- revision: bbbbbbbbbbbb
		-- down_revision: aaaaaaaaaaaa
		-- message: fill target

		-- +upgrade
		INSERT INTO target VALUES (1);

		-- +downgrade
		DELETE FROM target;
	SQL
}

# hold_sqlite FILE SQL: a sqlite3 process that runs SQL in a transaction on
# FILE and keeps it open until the test touches $BATS_TEST_TMPDIR/release.
hold_sqlite() {
	local held=$BATS_TEST_TMPDIR/held release=$BATS_TEST_TMPDIR/release
	sqlite3 "$1" "BEGIN; $2" \
		".shell touch '$held'; i=0; while [ ! -e '$release' ] && [ \$i -lt 600 ]; do sleep 0.1; i=\$((i + 1)); done" \
		"COMMIT;" >/dev/null &
	wait_for "sqlite3 holds its transaction" test -e "$held"
}

@test "SQLite: the progress line is out while the migration still runs, its time once it is done" {
	dir=$BATS_TEST_TMPDIR/m db=$BATS_TEST_TMPDIR/app.db err=$BATS_TEST_TMPDIR/err
	two_step "$dir"
	mig-upgrade -q -d "$(sqlite_url "$db")" -m "$dir" --to aaaaaaaaaaaa
	# A reader's open transaction keeps the second migration from committing.
	hold_sqlite "$db" "SELECT count(*) FROM target;"
	mig-upgrade -d "$(sqlite_url "$db")" -m "$dir" >"$BATS_TEST_TMPDIR/out" 2>"$err" &
	pid=$!
	wait_for "the progress line" said "applying 1/1 bbbbbbbbbbbb fill target …"
	still_running "$pid"
	refute grep -q "applied" "$err" "$BATS_TEST_TMPDIR/out"
	# the commit waits for the reader, and says so
	wait_for "the lock-wait line" said "held by another connection (SQLite does not say which process holds it)"
	touch "$BATS_TEST_TMPDIR/release"
	wait "$pid"
	wait
	run grep -E '^applied 1/1 bbbbbbbbbbbb in [0-9.]+ (ms|s)$' "$err"
	assert_success
	assert_equal "$(version_rows "$db")" "bbbbbbbbbbbb"
	assert_equal "$(sqlite_sql "$db" "SELECT count(*) FROM target")" "1"
}

@test "PostgreSQL: the progress line is out while the migration still runs, its time once it is done" {
	require_pg
	url=$(pg_new_db) err=$BATS_TEST_TMPDIR/err
	gated_migration "$url" "$BATS_TEST_TMPDIR/slow"
	mig-upgrade -d "$url" -m "$BATS_TEST_TMPDIR/slow" >"$BATS_TEST_TMPDIR/out" 2>"$err" &
	pid=$!
	wait_for "the progress line" said "applying 1/1 aaaaaaaaaaaa …"
	still_running "$pid"
	assert_equal "$(pg_sql "$url" "SELECT to_regclass('slow') IS NULL")" "t"
	refute grep -q "applied" "$err" "$BATS_TEST_TMPDIR/out"
	pg_sql "$url" "SELECT nextval('gate')" >/dev/null
	wait "$pid"
	run grep -E '^applied 1/1 aaaaaaaaaaaa in [0-9.]+ (ms|s|min [0-9]+ s)$' "$err"
	assert_success
	assert_equal "$(version_rows "$url")" "aaaaaaaaaaaa"
}

@test "progress counts the steps, says reverting for a downgrade, and -q and --format json print none" {
	dir=$BATS_TEST_TMPDIR/m db=$BATS_TEST_TMPDIR/app.db
	two_step "$dir"
	run --separate-stderr mig-upgrade -d "$(sqlite_url "$db")" -m "$dir"
	assert_success
	assert_equal "$(grep -c '' <<<"$stderr")" 4
	assert_equal "$(sed -n 1p <<<"$stderr")" "applying 1/2 aaaaaaaaaaaa create target …"
	assert_equal "$(sed -n 3p <<<"$stderr")" "applying 2/2 bbbbbbbbbbbb fill target …"
	[[ $(sed -n 4p <<<"$stderr") == "applied 2/2 bbbbbbbbbbbb in "* ]] || fail "$stderr"
	run --separate-stderr mig-downgrade -d "$(sqlite_url "$db")" -m "$dir" --to base
	assert_success
	assert_equal "$(sed -n 1p <<<"$stderr")" "reverting 1/2 bbbbbbbbbbbb fill target …"
	[[ $(sed -n 4p <<<"$stderr") == "reverted 2/2 aaaaaaaaaaaa in "* ]] || fail "$stderr"
	run --separate-stderr mig-upgrade -q -d "$(sqlite_url "$db")" -m "$dir"
	assert_success
	assert_equal "$stderr" ""
	mig-downgrade -q -d "$(sqlite_url "$db")" -m "$dir" --to base
	run --separate-stderr mig-upgrade --format json -d "$(sqlite_url "$db")" -m "$dir"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(version_rows "$db")" "bbbbbbbbbbbb"
}

@test "under GitHub Actions the progress lines are plain log lines, through the output gate" {
	dir=$BATS_TEST_TMPDIR/m db=$BATS_TEST_TMPDIR/app.db
	make_migrations "$dir"
	cat >"$dir/versions/aaaaaaaaaaaa_x.sql" <<-'SQL'
		-- revision: aaaaaaaaaaaa
		-- down_revision: none
		-- message: ::warning::forged

		-- +upgrade
		CREATE TABLE t (id integer);
	SQL
	GITHUB_ACTIONS=true GITHUB_OUTPUT=$BATS_TEST_TMPDIR/gh-out \
		run --separate-stderr mig-upgrade -d "$(sqlite_url "$db")" -m "$dir"
	assert_success
	assert_equal "$(sed -n 1p <<<"$stderr")" "applying 1/1 aaaaaaaaaaaa ::warning::forged …"
	[[ $(sed -n 2p <<<"$stderr") == "applied 1/1 aaaaaaaaaaaa in "* ]] || fail "$stderr"
	refute grep -q '^::' <<<"$stderr"
}

@test "SQLite: a statement longer than --heartbeat gets heartbeat lines with its file and line" {
	dir=$BATS_TEST_TMPDIR/m db=$BATS_TEST_TMPDIR/app.db
	make_migrations "$dir"
	# a count that takes far longer than the 10 ms heartbeat on any machine
	cat >"$dir/versions/aaaaaaaaaaaa_count.sql" <<-'SQL'
		-- revision: aaaaaaaaaaaa
		-- down_revision: none

		-- +upgrade
		CREATE TABLE t (n integer);
		INSERT INTO t
		SELECT count(*) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL
			SELECT x + 1 FROM c WHERE x < 500000) SELECT x FROM c);
	SQL
	run --separate-stderr mig-upgrade -d "$(sqlite_url "$db")" -m "$dir" --heartbeat 0.01
	assert_success
	grep -qE "^  still running after [0-9.]+ (ms|s) at $dir/versions/aaaaaaaaaaaa_count.sql:6: SQLite works in this process" <<<"$stderr" ||
		fail "$stderr"
	assert_equal "$(sqlite_sql "$db" "SELECT n FROM t")" "500000"
	# off: none
	rm "$db"
	run --separate-stderr mig-upgrade -d "$(sqlite_url "$db")" -m "$dir" --heartbeat 0
	assert_success
	refute grep -q "still running" <<<"$stderr"
}

@test "PostgreSQL: a pg_sleep(6) with --heartbeat 1 gets heartbeat lines from pg_stat_activity" {
	require_pg
	url=$(pg_new_db) dir=$BATS_TEST_TMPDIR/m
	make_migrations "$dir"
	cat >"$dir/versions/aaaaaaaaaaaa_sleep.sql" <<-'SQL'
		-- revision: aaaaaaaaaaaa
		-- down_revision: none

		-- +upgrade
		CREATE TABLE t (id integer);

		-- long enough for a beat after the second connection is open,
		-- however slowly it opens (valgrind)
		SELECT pg_sleep(6);
		INSERT INTO t VALUES (1);
	SQL
	run --separate-stderr mig-upgrade -d "$url" -m "$dir" --heartbeat 1
	assert_success
	grep -qE "^  still running after [0-9.]+ s at $dir/versions/aaaaaaaaaaaa_sleep.sql:5 \(the section, sent whole\): backend pid [0-9]+ active, wait_event Timeout:PgSleep$" <<<"$stderr" ||
		fail "$stderr"
	assert_equal "$(pg_sql "$url" "SELECT count(*) FROM t")" "1"
	assert_equal "$(version_rows "$url")" "aaaaaaaaaaaa"
	# The same migration with the default heartbeat (30 s): no line, and
	# the same result, through libpq's blocking call.
	url=$(pg_new_db)
	run --separate-stderr mig-upgrade -d "$url" -m "$dir"
	assert_success
	refute grep -q "still running" <<<"$stderr"
	assert_equal "$(version_rows "$url")" "aaaaaaaaaaaa"
}

@test "PostgreSQL: the heartbeat of a statement blocked by another session's lock names that session's pid" {
	require_pg
	url=$(pg_new_db) dir=$BATS_TEST_TMPDIR/m err=$BATS_TEST_TMPDIR/err
	two_step "$dir"
	mig-upgrade -q -d "$url" -m "$dir" --to aaaaaaaaaaaa
	pg_sql "$url" "CREATE SEQUENCE gate"
	# A session locks target until the test opens the gate (60 s at most).
	PGAPPNAME=lockholder pg_sql "$url" "BEGIN; LOCK TABLE target IN ACCESS EXCLUSIVE MODE;
		DO \$\$ BEGIN FOR i IN 1..1200 LOOP EXIT WHEN (SELECT is_called FROM gate);
		PERFORM pg_sleep(0.05); END LOOP; END \$\$; COMMIT;" >/dev/null &
	holder_pid() {
		pg_sql "$url" "SELECT pid FROM pg_stat_activity WHERE application_name = 'lockholder'
			AND datname = current_database()"
	}
	holder_connected() { [[ -n $(holder_pid) ]]; }
	wait_for "the lock holder is connected" holder_connected
	holder=$(holder_pid)
	mig-upgrade -d "$url" -m "$dir" --heartbeat 1 >/dev/null 2>"$err" &
	pid=$!
	wait_for "a heartbeat naming the holder" said "wait_event Lock:relation, waiting for a lock held by pid $holder (application_name 'lockholder', active, its transaction open for "
	still_running "$pid"
	pg_sql "$url" "SELECT nextval('gate')" >/dev/null
	wait "$pid"
	wait
	grep -qE "^  still running after [0-9.]+ s at $dir/versions/bbbbbbbbbbbb_second.sql:6 \(the section, sent whole\): backend pid [0-9]+ active" "$err" || fail "$(cat "$err")"
	assert_equal "$(version_rows "$url")" "bbbbbbbbbbbb"
}

@test "PostgreSQL: a run that waits for the migration lock says so at once, names the holder and repeats" {
	require_pg
	url=$(pg_new_db) err=$BATS_TEST_TMPDIR/err
	gated_migration "$url" "$BATS_TEST_TMPDIR/slow"
	mig-upgrade -q -d "$url" -m "$BATS_TEST_TMPDIR/slow" &
	first=$!
	lock_holder() {
		pg_sql "$url" "SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database
			WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()"
	}
	lock_held() { [[ -n $(lock_holder) ]]; }
	wait_for "the first run holds the lock" lock_held
	holder=$(lock_holder)
	mig-upgrade -d "$url" -m "$BATS_TEST_TMPDIR/slow" --heartbeat 1 >/dev/null 2>"$err" &
	second=$!
	wait_for "the lock-wait line" said "mig-upgrade: waiting for the migration lock of "
	still_running "$second"
	# at once: the first line the second run prints
	run grep -E "^mig-upgrade: waiting for the migration lock of postgresql://[^ ]+, held by pid $holder \(application_name 'mig-upgrade', [a-z ]+, (its transaction open for [0-9.]+ s, )?connected [0-9.]+ s ago\); waiting without limit \(--lock-timeout sets one\)$" "$err"
	assert_success
	wait_for "the repeated line" said "mig-upgrade: still waiting for the migration lock of "
	grep -qE "still waiting for the migration lock of [^ ]+ after [0-9.]+ s, held by pid $holder " "$err" || fail "$(cat "$err")"
	still_running "$second"
	pg_sql "$url" "SELECT nextval('gate')" >/dev/null
	wait "$first"
	wait "$second"
	assert_equal "$(version_rows "$url")" "aaaaaaaaaaaa"
	if [[ -n ${MIG_PG_PASSWORD:-} ]]; then
		refute grep -qF -- "$MIG_PG_PASSWORD" "$err"
	fi
}

@test "PostgreSQL: the lock-wait line names the lock timeout it gives up at, and -q silences it" {
	require_pg
	url=$(pg_new_db)
	gated_migration "$url" "$BATS_TEST_TMPDIR/slow"
	mig-upgrade -q -d "$url" -m "$BATS_TEST_TMPDIR/slow" &
	lock_held() { [[ -n $(pg_sql "$url" "SELECT 1 FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()") ]]; }
	wait_for "the first run holds the lock" lock_held
	run --separate-stderr mig-upgrade -d "$url" -m "$BATS_TEST_TMPDIR/slow" --lock-timeout 0.5
	assert_failure 4
	[[ $stderr == *", held by pid "*"; giving up after 0.5 s (--lock-timeout)"* ]] || fail "$stderr"
	run --separate-stderr mig-upgrade -q -d "$url" -m "$BATS_TEST_TMPDIR/slow" --lock-timeout 0.5
	assert_failure 4
	refute grep -q "^mig-upgrade: waiting for" <<<"$stderr"
	pg_sql "$url" "SELECT nextval('gate')" >/dev/null
	wait
	assert_equal "$(version_rows "$url")" "aaaaaaaaaaaa"
}

@test "SQLite: a run that waits for the lock says so at once, says the holder is unknown, and repeats" {
	dir=$BATS_TEST_TMPDIR/m db=$BATS_TEST_TMPDIR/app.db err=$BATS_TEST_TMPDIR/err
	two_step "$dir"
	mig-upgrade -q -d "$(sqlite_url "$db")" -m "$dir" --to aaaaaaaaaaaa
	hold_sqlite "$db" "INSERT INTO target VALUES (7);"	# the write lock
	mig-upgrade -d "$(sqlite_url "$db")" -m "$dir" --heartbeat 0.2 >/dev/null 2>"$err" &
	pid=$!
	wait_for "the lock-wait line" said "waiting for the lock of "
	run head -1 "$err"
	assert_output "mig-upgrade: waiting for the lock of $db, held by another connection (SQLite does not say which process holds it); waiting without limit (--lock-timeout sets one)"
	wait_for "the repeated line" said "mig-upgrade: still waiting for the lock of $db after "
	still_running "$pid"
	refute said "applying"
	touch "$BATS_TEST_TMPDIR/release"
	wait "$pid"
	wait
	assert_equal "$(version_rows "$db")" "bbbbbbbbbbbb"
	assert_equal "$(sqlite_sql "$db" "SELECT count(*) FROM target")" "2"
}

@test "--wait N waits the whole N seconds for a server that never answers, and says how long" {
	run --separate-stderr mig-upgrade -d "postgresql://nobody@127.0.0.1:1/none" --wait 1.5
	assert_failure 3
	waited=$(sed -n 's/.*after waiting \([0-9.]*\) s for the server (--wait 1.5).*/\1/p' <<<"$stderr")
	[[ -n $waited ]] || fail "$stderr"
	awk -v w="$waited" 'BEGIN { exit !(w >= 1.5) }' || fail "waited $waited s: $stderr"
}

@test "--heartbeat takes seconds, and only the programs that run migrations take it" {
	run --separate-stderr mig-upgrade --heartbeat soon -d sqlite://
	assert_failure 2
	[[ $stderr == *"--heartbeat: 'soon' is not a number of seconds (0 to 86400)"* ]] || fail "$stderr"
	run --separate-stderr mig-status --heartbeat 1 -d sqlite://
	assert_failure 2
	[[ $stderr == *"unknown option '--heartbeat'"* ]] || fail "$stderr"
}
