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
	wait_for_sql "$DB" "SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE '%is_called FROM gate%' AND datname = current_database() AND pid <> pg_backend_pid()"
	timeout 90 mig-upgrade -m "$m" -d "$URL" --wait 20 --lock-mode "$mode" \
		>"$BATS_TEST_TMPDIR/out2" 2>&1 &
	local p2=$!
	wait_for_sql "$DB" "SELECT count(*) >= 2 FROM pg_stat_activity WHERE application_name = 'mig-upgrade' AND datname = current_database()"
	pg_sql "$DB" "SELECT nextval('gate')" >/dev/null
	RC1=0 RC2=0
	wait "$p1" || RC1=$?
	wait "$p2" || RC2=$?
}

@test "PostgreSQL: DISCARD ALL in a transactional: false migration releases the lock: run 1 stops (exit 3), run 2 refuses the unfinished step (exit 4), its statements after it run in neither" {
	lock_release_race "-- transactional: false" "DISCARD ALL;"
	assert_equal "$RC1 $RC2" "3 4"
	grep -q "versions/a2.sql:7: this statement released mig's migration lock" "$BATS_TEST_TMPDIR/out1" \
		|| fail "$(cat "$BATS_TEST_TMPDIR/out1")"
	grep -q "the version table records a1 now" "$BATS_TEST_TMPDIR/out1" \
		|| fail "$(cat "$BATS_TEST_TMPDIR/out1")"
	grep -q "the upgrade of a2 was started at .* and did not finish" "$BATS_TEST_TMPDIR/out2" \
		|| fail "$(cat "$BATS_TEST_TMPDIR/out2")"
	assert_equal "$(pg_sql "$DB" "SELECT count(*) FROM counter")" "0"
	assert_equal "$(version_rows "$DB")" "a1"
	# and no advisory lock is left behind
	assert_equal "$(pg_sql "$DB" "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND d.datname = current_database()")" "0"
}

@test "PostgreSQL: DISCARD ALL in a transactional: false migration without mig_history (no started mark): both deploys stop (exit 3) after it, nothing runs twice" {
	export MIG_NO_HISTORY=1
	lock_release_race "-- transactional: false" "DISCARD ALL;"
	assert_equal "$RC1 $RC2" "3 3"
	local out
	for out in out1 out2; do
		grep -q "versions/a2.sql:7: this statement released mig's migration lock" "$BATS_TEST_TMPDIR/$out" \
			|| fail "$out: $(cat "$BATS_TEST_TMPDIR/$out")"
	done
	assert_equal "$(pg_sql "$DB" "SELECT count(*) FROM counter")" "0"
	assert_equal "$(version_rows "$DB")" "a1"
}

@test "PostgreSQL: SELECT pg_advisory_unlock_all() in a transactional: false migration: both deploys stop, nothing runs twice" {
	lock_release_race "-- transactional: false" "SELECT pg_advisory_unlock_all();"
	assert_equal "$RC1 $RC2" "3 4"
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

# --- kill -9 inside a transactional: false migration (red-team B6) -------------

# killed_nontx: a2 (transactional: false) inserts '2', waits at the gate,
# inserts '2b'; mig-upgrade is killed with SIGKILL while a2 waits, and the
# server ends its backend once the gate opens.  Leaves DB, URL and M.
killed_nontx() {
	new_db postgresql
	M=$BATS_TEST_TMPDIR/m
	pg_sql "$DB" "CREATE SEQUENCE gate"
	rev "$M" a1 none "CREATE TABLE counter (v text);"
	rev "$M" a2 a1 "INSERT INTO counter VALUES ('2');
$GATE_WAIT
INSERT INTO counter VALUES ('2b');" "SELECT 1;" "-- transactional: false"
	rev "$M" a3 a2 "INSERT INTO counter VALUES ('3');"
	run --separate-stderr mig-upgrade -m "$M" -d "$URL" --to a1
	assert_success
	"$(type -P mig-upgrade)" -q -m "$M" -d "$URL" >"$BATS_TEST_TMPDIR/killed" 2>&1 &
	local p=$!
	wait_for_sql "$DB" "SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE '%is_called FROM gate%' AND datname = current_database() AND pid <> pg_backend_pid()"
	kill -9 "$p"
	wait "$p" || true
	pg_sql "$DB" "SELECT nextval('gate')" >/dev/null
	wait_for_sql "$DB" "SELECT count(*) = 0 FROM pg_stat_activity WHERE application_name = 'mig-upgrade' AND datname = current_database()"
	assert_equal "$(pg_sql "$DB" "SELECT string_agg(v, ',' ORDER BY v) FROM counter")" "2"
	assert_equal "$(version_rows "$DB")" "a1"
}

@test "PostgreSQL: after kill -9 inside a transactional: false migration the next run refuses (exit 4), names it and its lines, and runs nothing" {
	killed_nontx
	run --separate-stderr mig-upgrade -m "$M" -d "$URL"
	assert_failure 4
	[[ $stderr == *"the upgrade of a2 was started at "*" and did not finish"* ]] || fail "$stderr"
	[[ $stderr == *"any of its statements (${M}/versions/a2.sql lines 6-8) may have run"* ]] || fail "$stderr"
	[[ $stderr == *"mig-stamp --force a2"* ]] || fail "$stderr"
	[[ $stderr == *"--rerun-unfinished"* ]] || fail "$stderr"
	assert_equal "$(pg_sql "$DB" "SELECT string_agg(v, ',' ORDER BY v) FROM counter")" "2"
	assert_equal "$(version_rows "$DB")" "a1"
	# mig-downgrade is refused the same way
	run --separate-stderr mig-downgrade -m "$M" -d "$URL" --to base
	assert_failure 4
	assert_equal "$(version_rows "$DB")" "a1"
	assert_equal "$(tables "$DB")" "counter"
}

@test "PostgreSQL: after kill -9 inside a transactional: false migration, --rerun-unfinished runs it again once and the rest after it" {
	killed_nontx
	pg_sql "$DB" "DELETE FROM counter WHERE v = '2'"	# the operator undoes what ran
	run --separate-stderr mig-upgrade -m "$M" -d "$URL" --rerun-unfinished
	assert_success
	assert_equal "$(pg_sql "$DB" "SELECT string_agg(v, ',' ORDER BY v) FROM counter")" "2,2b,3"
	assert_equal "$(version_rows "$DB")" "a3"
	assert_equal "$(history_rows "$DB" | paste -sd, -)" "up a1,up a2,up a3"
	assert_equal "$(pg_sql "$DB" "SELECT count(*) FROM mig_history WHERE duration_ms < 0")" "0"
	run --separate-stderr mig-upgrade -m "$M" -d "$URL"
	assert_success
}

@test "PostgreSQL: after kill -9 inside a transactional: false migration that did all its work, mig-stamp records it and clears the mark" {
	killed_nontx
	pg_sql "$DB" "INSERT INTO counter VALUES ('2b')"	# the operator finishes it by hand
	run --separate-stderr mig-stamp --force --no-verify a2 -m "$M" -d "$URL"
	assert_success
	assert_equal "$(pg_sql "$DB" "SELECT count(*) FROM mig_history WHERE duration_ms < 0")" "0"
	run --separate-stderr mig-upgrade -m "$M" -d "$URL"
	assert_success
	assert_equal "$(pg_sql "$DB" "SELECT string_agg(v, ',' ORDER BY v) FROM counter")" "2,2b,3"
	assert_equal "$(version_rows "$DB")" "a3"
}

@test "PostgreSQL: a transactional: false migration that fails leaves the mark too: the next run refuses until --rerun-unfinished" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE counter (v text);"
	rev "$m" a2 a1 "INSERT INTO counter VALUES ('2');
SELECT 1/0;" "SELECT 1;" "-- transactional: false"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_failure 3
	[[ $stderr == *"versions/a2.sql:7: division by zero (the section had run 1 statement before it"* ]] || fail "$stderr"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_failure 4
	[[ $stderr == *"the upgrade of a2 was started at"* ]] || fail "$stderr"
	assert_equal "$(pg_sql "$DB" "SELECT count(*) FROM counter")" "1"
	rev "$m" a2 a1 "SELECT 1;" "SELECT 1;" "-- transactional: false"	# fixed
	run --separate-stderr mig-upgrade -m "$m" -d "$URL" --rerun-unfinished
	assert_success
	assert_equal "$(version_rows "$DB")" "a2"
	assert_equal "$(pg_sql "$DB" "SELECT count(*) FROM mig_history WHERE duration_ms < 0")" "0"
}

@test "SQLite: kill -9 inside a transactional: false migration rolls it back whole (SQLite runs it in a transaction): the next run applies it once" {
	new_db sqlite
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE counter (v text);"
	rev "$m" a2 a1 "INSERT INTO counter VALUES ('2');
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT count(*) FROM c;
INSERT INTO counter VALUES ('2b');" "SELECT 1;" "-- transactional: false"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL" --to a1
	assert_success
	"$(type -P mig-upgrade)" -q -m "$m" -d "$URL" >/dev/null 2>&1 &
	local p=$! i
	for ((i = 0; i < 600; i++)); do
		[[ -e $DB-journal ]] && break
		sleep 0.1
	done
	[[ -e $DB-journal ]] || fail "the migration never began writing"
	kill -9 "$p"
	wait "$p" || true
	assert_equal "$(version_rows "$DB")" "a1"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL" --to a2
	assert_success
	assert_equal "$(sqlite_sql "$DB" "SELECT group_concat(v, ',') FROM (SELECT v FROM counter ORDER BY v)")" "2,2b"
	assert_equal "$(version_rows "$DB")" "a2"
}

# --- session settings do not carry over (red-team B4) --------------------------

@test "PostgreSQL: SET search_path, SET ROLE and SET statement_timeout of one migration do not reach the next one of the same run, nor mig's own statements" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m role="r_$RANDOM$RANDOM"
	pg_sql "$DB" "CREATE ROLE $role; GRANT CREATE ON SCHEMA public TO $role"
	rev "$m" a1 none "CREATE TABLE t1 (id int);"
	rev "$m" a2 a1 "CREATE SCHEMA evil;
GRANT ALL ON SCHEMA evil TO $role;
SET search_path = evil, pg_temp;
SET ROLE $role;
SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY;
SET statement_timeout = 1;
SET lock_timeout = 1;
CREATE TABLE t2 (id int);"
	rev "$m" a3 a2 "CREATE TABLE t3 AS SELECT current_schema() AS sch, current_user::text AS who,
  current_setting('statement_timeout') AS st, current_setting('default_transaction_read_only') AS ro;"
	local me
	me=$(pg_sql "$DB" "SELECT current_user")
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_success
	assert_equal "$(version_rows "$DB")" "a3"
	assert_equal "$(tables "$DB")" "evil.t2 t1 t3"
	assert_equal "$(pg_sql "$DB" "SELECT sch || ' ' || who || ' ' || st || ' ' || ro FROM public.t3")" "public $me 0 off"
	# step by step, it builds the same
	new_db postgresql
	run --separate-stderr mig-upgrade -m "$m" -d "$URL" --to a2
	assert_success
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_success
	assert_equal "$(tables "$DB")" "evil.t2 t1 t3"
	assert_equal "$(pg_sql "$DB" "SELECT sch || ' ' || who || ' ' || st || ' ' || ro FROM public.t3")" "public $me 0 off"
}

@test "PostgreSQL: SET search_path in a transactional: false migration does not reach the next one either" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE SCHEMA evil;
SET search_path = evil;
CREATE TABLE t1 (id int);" "SELECT 1;" "-- transactional: false"
	rev "$m" a2 a1 "CREATE TABLE t2 (id int);"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_success
	assert_equal "$(tables "$DB")" "evil.t1 t2"
	assert_equal "$(version_rows "$DB")" "a2"
}

@test "SQLite: PRAGMA legacy_alter_table and recursive_triggers of one migration do not reach the next one" {
	new_db sqlite
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER);"
	rev "$m" a2 a1 "PRAGMA legacy_alter_table = ON;
PRAGMA recursive_triggers = ON;
CREATE TABLE t2 (id INTEGER);"
	rev "$m" a3 a2 "CREATE TABLE t3 AS SELECT (SELECT legacy_alter_table FROM pragma_legacy_alter_table()) AS lat,
  (SELECT recursive_triggers FROM pragma_recursive_triggers()) AS rt;"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_success
	assert_equal "$(version_rows "$DB")" "a3"
	assert_equal "$(sqlite_sql "$DB" "SELECT lat || ' ' || rt FROM t3")" "0 0"
}

@test "SQLite: pragmas set in any spelling, after other statements, do not reach the next migration" {
	# the reset runs only after a migration that set a pragma: every way
	# of writing one must count
	new_db sqlite
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER);"
	rev "$m" a2 a1 "CREATE TABLE t2 (id INTEGER);
/* a comment */ pragma MAIN.Legacy_Alter_Table('yes');
PRAGMA recursive_triggers(1);
PRAGMA main.writable_schema = 1;
INSERT INTO t2 VALUES (1);"
	rev "$m" a3 a2 "CREATE TABLE t3 AS SELECT (SELECT legacy_alter_table FROM pragma_legacy_alter_table()) AS lat,
  (SELECT recursive_triggers FROM pragma_recursive_triggers()) AS rt,
  (SELECT writable_schema FROM pragma_writable_schema()) AS ws;"
	rev "$m" a4 a3 "PRAGMA legacy_alter_table = ON;" "" "-- transactional: false"
	rev "$m" a5 a4 "CREATE TABLE t5 AS SELECT legacy_alter_table AS lat FROM pragma_legacy_alter_table();"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_success
	assert_equal "$(version_rows "$DB")" "a5"
	assert_equal "$(sqlite_sql "$DB" "SELECT lat || ' ' || rt || ' ' || ws FROM t3")" "0 0 0"
	assert_equal "$(sqlite_sql "$DB" "SELECT lat FROM t5")" "0"
}

# --- a run whose own step committed exits 0 (issue 15) ------------------------

# other_process_after DIALECT: a1 -> a2, and b1 on a branch of its own; a
# trigger on mig_history stands for another process that records b1 in the
# same moment as this run's step (deterministic: no sleep races it).
other_process_after() {
	new_db "$1"
	M=$BATS_TEST_TMPDIR/m
	rev "$M" a1 none "CREATE TABLE t1 (id INTEGER);" "DROP TABLE t1;"
	rev "$M" a2 a1 "CREATE TABLE t2 (id INTEGER);" "DROP TABLE t2;"
	rev "$M" b1 none "CREATE TABLE u1 (id INTEGER);" "DROP TABLE u1;"
	run --separate-stderr mig-upgrade -m "$M" -d "$URL" --to a1
	assert_success
	if [[ $1 == postgresql ]]; then
		pg_sql "$DB" "CREATE FUNCTION other() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN INSERT INTO alembic_version VALUES ('b1'); RETURN NULL; END \$\$;
CREATE TRIGGER other AFTER INSERT ON mig_history FOR EACH ROW EXECUTE FUNCTION other();"
	else
		sqlite_sql "$DB" "CREATE TRIGGER other AFTER INSERT ON mig_history
BEGIN INSERT INTO alembic_version VALUES ('b1'); END;"
	fi
}

upgrade_then_other() {
	other_process_after "$1"
	run --separate-stderr mig-upgrade -v -m "$M" -d "$URL" --to a2
	assert_success
	assert_line --partial "applied a2"
	assert_line --partial "database is at a2, b1 (1 applied"
	[[ $stderr == *"this run's steps are committed; since then another process moved the database to a2, b1"* ]] \
		|| fail "$stderr"
	assert_equal "$(version_rows "$DB")" "a2 b1"
	assert_equal "$(history_rows "$DB" | paste -sd, -)" "up a1,up a2"
}

downgrade_then_other() {
	other_process_after "$1"
	if [[ $1 == postgresql ]]; then
		pg_sql "$DB" "DROP TRIGGER other ON mig_history"
	else
		sqlite_sql "$DB" "DROP TRIGGER other"
	fi
	run --separate-stderr mig-upgrade -m "$M" -d "$URL" --to a2
	assert_success
	if [[ $1 == postgresql ]]; then
		pg_sql "$DB" "CREATE TRIGGER other AFTER INSERT ON mig_history FOR EACH ROW EXECUTE FUNCTION other();"
	else
		sqlite_sql "$DB" "CREATE TRIGGER other AFTER INSERT ON mig_history
BEGIN INSERT INTO alembic_version VALUES ('b1'); END;"
	fi
	run --separate-stderr mig-downgrade -v -m "$M" -d "$URL" --to -1
	assert_success
	assert_line --partial "reverted a2"
	[[ $stderr == *"this run's steps are committed; since then another process moved the database to a1, b1"* ]] \
		|| fail "$stderr"
	assert_equal "$(version_rows "$DB")" "a1 b1"
	assert_equal "$(tables "$DB")" "t1"
	assert_equal "$(history_rows "$DB" | paste -sd, -)" "up a1,up a2,down a2"
}

@test "SQLite: an upgrade whose own step committed exits 0 when another process records a revision at once; -v reports that as information" {
	upgrade_then_other sqlite
}

@test "PostgreSQL: an upgrade whose own step committed exits 0 when another process records a revision at once; -v reports that as information" {
	upgrade_then_other postgresql
}

@test "SQLite: mig-downgrade --to -1 whose own step committed exits 0 when another process records a revision at once" {
	downgrade_then_other sqlite
}

@test "PostgreSQL: mig-downgrade --to -1 whose own step committed exits 0 when another process records a revision at once" {
	downgrade_then_other postgresql
}

# --- CockroachDB, whose advisory locks lock nothing -----------------------------

@test "CockroachDB is told from PostgreSQL by its version() string (real strings; CockroachDB is not in Debian)" {
	local prog=$REPO/build/default/unit/pg_version
	[[ -x $prog ]] || fail "$prog is missing: run make"
	run "$prog"
	assert_success
	assert_output "ok: 11 version strings"
}

# --- --schema: where the application's tables are -------------------------------

# app_schema_db: a PostgreSQL database whose application table app.t1 was
# made without migrations; a1 creates it by its qualified name.  The
# connection's search_path is the default one (public), where the version
# table goes.
app_schema_db() {
	new_db postgresql
	M=$BATS_TEST_TMPDIR/m
	rev "$M" a1 none "CREATE TABLE app.t1 (id int);" "DROP TABLE app.t1;"
	pg_sql "$DB" "CREATE SCHEMA app; CREATE TABLE app.t1 (id int);"
}

@test "PostgreSQL: --schema app makes a legacy database in schema app legacy for mig-upgrade, mig-status, mig-verify -d and mig-stamp" {
	app_schema_db
	run --separate-stderr mig-status -m "$M" -d "$URL" --schema app
	assert_success
	assert_line --partial "legacy (1 table"
	run --separate-stderr mig-upgrade -m "$M" -d "$URL" --schema app
	assert_failure 4
	[[ $stderr == *"it looks like a legacy database"* ]] || fail "$stderr"
	assert_equal "$(version_rows "$DB")" ""
	run --separate-stderr mig-verify -m "$M" -d "$URL" --schema app
	assert_failure 4
	[[ $stderr == *"is not empty (1 table: t1)"* ]] || fail "$stderr"
	assert_equal "$(version_rows "$DB")" ""
	run --separate-stderr mig-stamp a1 -m "$M" -d "$URL" --schema app --no-verify
	assert_success
	assert_equal "$(version_rows "$DB")" "a1"
	run --separate-stderr mig-upgrade -m "$M" -d "$URL" --schema app
	assert_success
	assert_line "nothing to do: database is at a1"
	assert_equal "$(pg_tables "$DB" | paste -sd' ' -)" "alembic_version app.t1 mig_history"
}

@test "PostgreSQL: without --schema the connection's current_schema() is counted, so the same database reads as empty (the flag is what tells)" {
	app_schema_db
	run --separate-stderr mig-status -m "$M" -d "$URL"
	assert_success
	refute_line --partial "legacy"
	# with a search_path of app, app is the default
	run --separate-stderr mig-status -m "$M" -d "$URL?options=-csearch_path%3Dapp"
	assert_success
	assert_line --partial "legacy (1 table"
}

@test "PostgreSQL: mig-check-schema reads the connection's current_schema() by default, not public" {
	app_schema_db
	pg_sql "$DB" "CREATE TABLE public.elsewhere (id int)"
	run --separate-stderr mig-check-schema --dump -d "$URL?options=-csearch_path%3Dapp"
	assert_success
	assert_line "  t1:"
	refute_line --partial "elsewhere"
	run --separate-stderr mig-check-schema --dump -d "$URL?options=-csearch_path%3Dapp" --schema public
	assert_success
	assert_line "  elsewhere:"
	refute_line "  t1:"
}

@test "SQLite: --schema is refused (exit 2): SQLite has no schemas" {
	new_db sqlite
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER);"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL" --schema app
	assert_failure 2
	[[ $stderr == *"--schema is for PostgreSQL; SQLite has no schemas"* ]] || fail "$stderr"
	[[ ! -e $DB ]] || assert_equal "$(tables "$DB")" ""
}
