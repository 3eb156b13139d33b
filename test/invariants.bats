#!/usr/bin/env bats
# Exactly once, or refused (issue 15), the invariants mig re-checks while it
# runs: that it still holds its migration lock after every section, that a
# transactional: false migration killed half way is not run again silently,
# that one migration's session settings do not reach the next, and that a
# run whose own steps committed exits 0.  Each test states the exit code, the
# message, and the database before and after.

load test_helper/common
load test_helper/revs

# --- a migration that releases mig's lock (red-team B2) ----------------------

GATE_WAIT='DO $$ BEGIN FOR i IN 1..1200 LOOP EXIT WHEN (SELECT is_called FROM gate); PERFORM pg_sleep(0.05); END LOOP; END $$;'

# lock_release_race HEADER RELEASE [LOCK_MODE]: two deploys at once of a2,
# which waits at a gate, then runs RELEASE, sleeps, and counts its run in
# table counter.  Run 2 is started once run 1 waits at the gate, holding the
# lock; then the gate opens.  Leaves the exit codes in RC1, RC2 and the
# outputs in $BATS_TEST_TMPDIR/out1, out2.
lock_release_race() {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m mode=${3:-session}
	pg_sql "$DB" "CREATE SEQUENCE gate"
	rev "$m" a1 none "CREATE TABLE counter (who text);"
	rev "$m" a2 a1 "$GATE_WAIT
$2
SELECT pg_sleep(1);
INSERT INTO counter VALUES (pg_backend_pid()::text);" "SELECT 1;" "$1"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL" --to a1
	assert_success
	timeout 90 mig-upgrade -m "$m" -d "$URL" --wait 20 --lock-mode "$mode" \
		>"$BATS_TEST_TMPDIR/out1" 2>&1 &
	local p1=$!
	wait_for_sql "$DB" "SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE 'DO%gate%' AND pid <> pg_backend_pid()"
	timeout 90 mig-upgrade -m "$m" -d "$URL" --wait 20 --lock-mode "$mode" \
		>"$BATS_TEST_TMPDIR/out2" 2>&1 &
	local p2=$!
	wait_for_sql "$DB" "SELECT count(*) >= 2 FROM pg_stat_activity WHERE application_name = 'mig-upgrade' AND datname = current_database()"
	pg_sql "$DB" "SELECT nextval('gate')" >/dev/null
	RC1=0 RC2=0
	wait "$p1" || RC1=$?
	wait "$p2" || RC2=$?
}

@test "PostgreSQL: DISCARD ALL in a transactional: false migration releases the lock: both deploys stop (exit 3), its statements after it run in neither" {
	lock_release_race "-- transactional: false" "DISCARD ALL;"
	assert_equal "$RC1 $RC2" "3 3"
	local out
	for out in out1 out2; do
		grep -q "versions/a2.sql:7: this statement released mig's migration lock" "$BATS_TEST_TMPDIR/$out" \
			|| fail "$out: $(cat "$BATS_TEST_TMPDIR/$out")"
		grep -q "the version table records a1 now" "$BATS_TEST_TMPDIR/$out" \
			|| fail "$out: $(cat "$BATS_TEST_TMPDIR/$out")"
	done
	assert_equal "$(pg_sql "$DB" "SELECT count(*) FROM counter")" "0"
	assert_equal "$(version_rows "$DB")" "a1"
	# and no advisory lock is left behind
	assert_equal "$(pg_sql "$DB" "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")" "0"
}

@test "PostgreSQL: SELECT pg_advisory_unlock_all() in a transactional: false migration: both deploys stop, nothing runs twice" {
	lock_release_race "-- transactional: false" "SELECT pg_advisory_unlock_all();"
	assert_equal "$RC1 $RC2" "3 3"
	assert_equal "$(pg_sql "$DB" "SELECT count(*) FROM counter")" "0"
	assert_equal "$(version_rows "$DB")" "a1"
}

@test "PostgreSQL: pg_advisory_unlock_all() in a transactional migration: both deploys are refused (exit 4) and roll the step back" {
	lock_release_race "" "SELECT pg_advisory_unlock_all();"
	assert_equal "$RC1 $RC2" "4 4"
	grep -q "versions/a2.sql:5: this section released mig's migration lock" "$BATS_TEST_TMPDIR/out1" \
		|| fail "$(cat "$BATS_TEST_TMPDIR/out1")"
	grep -q "the upgrade of a2 was rolled back; the version table records a1 now" "$BATS_TEST_TMPDIR/out1" \
		|| fail "$(cat "$BATS_TEST_TMPDIR/out1")"
	assert_equal "$(pg_sql "$DB" "SELECT count(*) FROM counter")" "0"
	assert_equal "$(version_rows "$DB")" "a1"
}

@test "PostgreSQL: with --lock-mode transaction a second connection holds the lock, so DISCARD ALL releases nothing: a2 runs once, both exit 0" {
	lock_release_race "-- transactional: false" "DISCARD ALL;" transaction
	assert_equal "$RC1 $RC2" "0 0"
	assert_equal "$(pg_sql "$DB" "SELECT count(*) FROM counter")" "1"
	assert_equal "$(version_rows "$DB")" "a2"
}

@test "PostgreSQL: pg_advisory_unlock of mig's own key, found in pg_locks, is caught too (exit 4, rolled back)" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id int);"
	rev "$m" a2 a1 "CREATE TABLE t2 (id int);
SELECT pg_advisory_unlock((l.classid::bigint << 32) | l.objid::bigint)
  FROM pg_locks l WHERE l.locktype = 'advisory' AND l.pid = pg_backend_pid();
CREATE TABLE t3 (id int);"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_failure 4
	[[ $stderr == *"versions/a2.sql:5: this section released mig's migration lock"* ]] || fail "$stderr"
	[[ $stderr == *"the upgrade of a2 was rolled back; the version table records a1 now"* ]] || fail "$stderr"
	assert_equal "$(version_rows "$DB")" "a1"
	assert_equal "$(tables "$DB")" "t1"
}
