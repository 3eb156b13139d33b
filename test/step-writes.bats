#!/usr/bin/env bats
# A step's own statements (issue 19): on PostgreSQL a linear step costs the
# round trips psql's script costs (the last step's COMMIT with BEGIN and the
# version-row read, the section, the session reset with the lock check, the
# version-row change with its mig_history row), and
# folding them weakens no check: a version-row change that does not change
# exactly one row, on the one-statement path and on the merge path, and a
# version table dropped between two steps, each stop the run with nothing
# of the step kept; and a step's COMMIT, which goes with the next step's
# BEGIN, counts the step as applied only once the server accepted it (a
# deferred constraint refuses it there).  Each on SQLite and PostgreSQL
# where it applies.

load test_helper/common
load test_helper/revs

# chain DIR N: N linear migrations a1..aN, each creating table tK.
chain() {
	local k
	rev "$1" a1 none "CREATE TABLE t1 (id INTEGER PRIMARY KEY);"
	for ((k = 2; k <= $2; k++)); do
		rev "$1" "a$k" "a$((k - 1))" "CREATE TABLE t$k (id INTEGER PRIMARY KEY);"
	done
}

# statements_of DB CMD...: how many statements CMD sends to DB's database,
# read from the sandbox server's log with log_statement = 'all' set for
# that database alone (one simple query, or one extended-protocol
# execution, is one line and one round trip).
statements_of() {
	local db=$1 log=$MIG_PG_HOST/log name
	shift
	name=$(_mig_pg_dbname "$db")
	[[ -r $log ]] || fail "no server log at $log"
	_mig_psql postgres -c "ALTER DATABASE $name SET log_statement = 'all'"
	local before after
	before=$(grep -c 'LOG:  \(statement\|execute\)' "$log" || true)
	("$@") >/dev/null || fail "$* failed"	# (the wrapper execs in a subshell)
	after=$(grep -c 'LOG:  \(statement\|execute\)' "$log" || true)
	_mig_psql postgres -c "ALTER DATABASE $name RESET log_statement"
	echo $((after - before))
}

@test "PostgreSQL: each further linear step sends 4 statements (the last step's COMMIT with BEGIN and the version-row read, the section, the session reset with the lock check, the version row with its history row)" {
	require_pg
	local m3=$BATS_TEST_TMPDIR/m3 m9=$BATS_TEST_TMPDIR/m9 u3 u9 s3 s9
	chain "$m3" 3
	chain "$m9" 9
	u3=$(pg_new_db)
	u9=$(pg_new_db)
	s3=$(statements_of "$u3" mig-upgrade -q -m "$m3" -d "$u3")
	s9=$(statements_of "$u9" mig-upgrade -q -m "$m9" -d "$u9")
	assert_equal "$(((s9 - s3) / 6)).$(((s9 - s3) % 6))" "4.0"
	assert_equal "$(version_rows "$u9")" "a9"
	assert_equal "$(pg_sql "$u9" "SELECT count(*) FROM mig_history WHERE direction = 'up'")" "9"
	assert_equal "$(tables "$u9")" "t1 t2 t3 t4 t5 t6 t7 t8 t9"
}

# A migration that moves the version row itself: the step's own change then
# matches no row, and the step is rolled back whole.
row_moved() {
	new_db "$1"
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER PRIMARY KEY);"
	rev "$m" a2 a1 "CREATE TABLE t2 (id INTEGER PRIMARY KEY);
UPDATE alembic_version SET version_num = 'elsewhere';"
	rev "$m" a3 a2 "CREATE TABLE t3 (id INTEGER PRIMARY KEY);"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_failure 3
	[[ $stderr == *'updating a version row in "'*'"."alembic_version": expected to change one row, changed 0'* ]] || fail "$stderr"
	assert_equal "$(version_rows "$DB")" "a1"
	assert_equal "$(tables "$DB")" "t1"
	if [[ -z ${MIG_NO_HISTORY:-} ]]; then
		assert_equal "$(sql "$DB" "SELECT revision FROM mig_history ORDER BY id" | paste -sd' ' -)" "a1"
	fi
}

@test "SQLite: a migration that moves the version row itself is rolled back whole" {
	row_moved sqlite
}

@test "PostgreSQL: a migration that moves the version row itself is rolled back whole (version row and history row in one statement)" {
	row_moved postgresql
}

@test "PostgreSQL: the same without mig_history (MIG_NO_HISTORY=1)" {
	MIG_NO_HISTORY=1 row_moved postgresql
	assert_equal "$(pg_tables "$DB" | grep -cx mig_history)" "0"
}

# A merge step deletes one head's row and updates the other's: several
# statements, checked one by one.  The merge's section deletes b1's row.
merge_row_gone() {
	new_db "$1"
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER PRIMARY KEY);"
	rev "$m" b1 none "CREATE TABLE u1 (id INTEGER PRIMARY KEY);"
	rev "$m" c1 "a1, b1" "CREATE TABLE c1 (id INTEGER PRIMARY KEY);
DELETE FROM alembic_version WHERE version_num = 'b1';"
	mig-upgrade -q -m "$m" -d "$URL" --to a1
	run --separate-stderr mig-upgrade -m "$m" -d "$URL" --to b1
	assert_success
	assert_equal "$(version_rows "$DB" | paste -sd' ' -)" "a1 b1"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_failure 3
	[[ $stderr == *'expected to change one row, changed 0'* ]] || fail "$stderr"
	assert_equal "$(version_rows "$DB" | paste -sd' ' -)" "a1 b1"
	assert_equal "$(tables "$DB")" "t1 u1"
}

@test "SQLite: a merge whose section deletes a head's version row is rolled back whole" {
	merge_row_gone sqlite
}

@test "PostgreSQL: a merge whose section deletes a head's version row is rolled back whole" {
	merge_row_gone postgresql
}

# dropped_after_a2 LAST: another session drops the version table as soon
# as a2 commits; a3 follows unless LAST is a2 (then the check after the last
# step, outside any transaction, finds it gone).
dropped_after_a2() {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m i
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER PRIMARY KEY);"
	rev "$m" a2 a1 "DO \$\$
BEGIN
	FOR i IN 1..1200 LOOP
		EXIT WHEN EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'go_on');
		PERFORM pg_sleep(0.05);
	END LOOP;
END \$\$;
CREATE TABLE t2 (id INTEGER PRIMARY KEY);"
	[[ $1 == a2 ]] || rev "$m" a3 a2 "CREATE TABLE t3 (id INTEGER PRIMARY KEY);"
	mig-upgrade -m "$m" -d "$URL" >"$BATS_TEST_TMPDIR/run.out" 2>"$BATS_TEST_TMPDIR/run.err" &
	local run=$!
	for ((i = 0; i < 600; i++)); do
		[[ $(pg_sql "$DB" "SELECT count(*) FROM pg_stat_activity
			WHERE query LIKE '%go_on%' AND state = 'active' AND datname = current_database()
			AND pid <> pg_backend_pid()") == 1 ]] && break
		sleep 0.1
	done
	((i < 600)) || fail "the run never reached a2"
	# a2's transaction read the version table: the DROP waits for its COMMIT,
	# and is granted the lock before the run's next statement
	pg_sql "$DB" "DROP TABLE alembic_version" &
	local drop=$!
	for ((i = 0; i < 600; i++)); do
		[[ $(pg_sql "$DB" "SELECT count(*) FROM pg_stat_activity
			WHERE query LIKE 'DROP TABLE alembic_version%' AND wait_event_type = 'Lock'
			AND datname = current_database()") == 1 ]] && break
		sleep 0.1
	done
	((i < 600)) || fail "the DROP never waited for the run's transaction"
	pg_sql "$DB" "CREATE SCHEMA go_on"
	wait "$drop" || fail "the DROP failed"
	local rc=0
	wait "$run" || rc=$?
	assert_equal "$rc" 3
	grep -qF 'the version table "public"."alembic_version" was dropped during this run; stopped' \
		"$BATS_TEST_TMPDIR/run.err" || fail "$(cat "$BATS_TEST_TMPDIR/run.err")"
	assert_equal "$(tables "$DB")" "t1 t2"
	assert_equal "$(pg_tables "$DB" | grep -cx alembic_version)" "0"
}

@test "PostgreSQL: a version table dropped by another session between two steps stops the run before the next step" {
	dropped_after_a2 a3
}

@test "PostgreSQL: a version table dropped by another session after the last step is reported" {
	dropped_after_a2 a2
}

# deferred_chain DIR BAD: a1 makes parent and child with a foreign key
# checked at COMMIT (DEFERRABLE INITIALLY DEFERRED); a2 and a3 each add a
# table, and the one named BAD also a child row without a parent, which
# only its COMMIT refuses.  a4 follows.
deferred_chain() {
	local k bad
	rev "$1" a1 none "CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE child (pid int REFERENCES parent DEFERRABLE INITIALLY DEFERRED);"
	for k in 2 3 4; do
		bad=""
		[[ a$k == "$2" ]] && bad="INSERT INTO child VALUES (42);"
		rev "$1" "a$k" "a$((k - 1))" "CREATE TABLE t$k (id int);
$bad"
	done
}

# commit_refused BAD [ARGS]: a run from a1 whose step BAD is refused at its
# COMMIT: exit 3 naming BAD's file, the rows of the step before stay, and
# nothing of BAD or after it.
commit_refused() {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m bad=$1 before
	shift
	deferred_chain "$m" "$bad"
	mig-upgrade -q -m "$m" -d "$URL" --to a1
	run --separate-stderr mig-upgrade -m "$m" -d "$URL" "$@"
	assert_failure 3
	before=a$((${bad#a} - 1))
	[[ $stderr == *"versions/$bad.sql: COMMIT failed: "*'violates foreign key constraint'* ]] || fail "$stderr"
	[[ $stderr == *"the database is still at $before"* ]] || fail "$stderr"
	# neither BAD's "applied" line nor the next step's "applying" one
	[[ $stderr != *"applied "*" $bad in "* && $stderr != *"applying ${bad#a}/"* ]] || fail "$stderr"
	[[ $output != *"applied $bad "* ]] || fail "$output"
	assert_equal "$(version_rows "$DB")" "$before"
	local want="" k
	for ((k = 2; k < ${bad#a}; k++)); do want+=" t$k"; done
	assert_equal "$(tables "$DB")" "child parent$want"
	assert_equal "$(pg_sql "$DB" "SELECT count(*) FROM child")" "0"
	if [[ -z ${MIG_NO_HISTORY:-} ]]; then
		assert_equal "$(pg_sql "$DB" "SELECT string_agg(revision, ' ' ORDER BY id) FROM mig_history")" \
			"a1${want//t/a}"
	fi
}

@test "PostgreSQL: a middle step whose COMMIT fails (a deferred constraint, checked in the next step's round trip) is reported failed with its file, exit 3, and nothing after it runs" {
	commit_refused a3
}

@test "PostgreSQL: the same for the run's first step" {
	commit_refused a2
}

@test "PostgreSQL: the last step's COMMIT, sent alone, fails the same way" {
	commit_refused a4
}

@test "PostgreSQL: a middle step's failed COMMIT: the step summary and the outputs count only the steps that committed" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	deferred_chain "$m" a3
	export GITHUB_ACTIONS=true GITHUB_WORKSPACE=$BATS_TEST_TMPDIR
	export GITHUB_STEP_SUMMARY=$BATS_TEST_TMPDIR/summary GITHUB_OUTPUT=$BATS_TEST_TMPDIR/output
	: >"$GITHUB_STEP_SUMMARY"
	: >"$GITHUB_OUTPUT"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_failure 3
	grep -qE '^\| a2 \| .* \| applied \|$' "$GITHUB_STEP_SUMMARY" || fail "$(cat "$GITHUB_STEP_SUMMARY")"
	! grep -qE '^\| a3 \| .* \| applied \|$' "$GITHUB_STEP_SUMMARY" || fail "$(cat "$GITHUB_STEP_SUMMARY")"
	grep -qxF '| a3 |  | | | **failed, rolled back** |' "$GITHUB_STEP_SUMMARY" || fail "$(cat "$GITHUB_STEP_SUMMARY")"
	grep -qxF '**Failed:** m/versions/a3\.sql' "$GITHUB_STEP_SUMMARY" || fail "$(cat "$GITHUB_STEP_SUMMARY")"
	grep -qx 'applied_count=2' "$GITHUB_OUTPUT" || fail "$(cat "$GITHUB_OUTPUT")"
	grep -qx 'to=a2' "$GITHUB_OUTPUT" || fail "$(cat "$GITHUB_OUTPUT")"
	assert_equal "$(version_rows "$DB")" "a2"
}

@test "PostgreSQL: with --lock-mode transaction the COMMIT goes with the next BEGIN too, and its failure is reported the same" {
	commit_refused a3 --lock-mode transaction
}

@test "PostgreSQL: a transactional: false step sends its statements one by one, each with its lock check (count in the comment)" {
	require_pg
	local m1=$BATS_TEST_TMPDIR/m1 m2=$BATS_TEST_TMPDIR/m2 u1 u2 s1 s2
	chain "$m1" 3
	chain "$m2" 3
	rev "$m2" a4 a3 "CREATE TABLE t4 (id int);
CREATE TABLE t5 (id int);" "SELECT 1;" "-- transactional: false"
	rev "$m1" a4 a3 "CREATE TABLE t4 (id int);" "SELECT 1;"
	u1=$(pg_new_db)
	u2=$(pg_new_db)
	s1=$(statements_of "$u1" mig-upgrade -q -m "$m1" -d "$u1")
	s2=$(statements_of "$u2" mig-upgrade -q -m "$m2" -d "$u2")
	# a transactional a4 (the last step): BEGIN with the read, the section,
	# the reset with the lock check, the version row, COMMIT: 5.  As
	# transactional: false: BEGIN with the read, COMMIT, the started mark,
	# 2 x (statement, lock check), the reset, BEGIN, the version row, the
	# started mark cleared, COMMIT: 12.
	assert_equal "$((s2 - s1))" "7"
	assert_equal "$(version_rows "$u2")" "a4"
	assert_equal "$(tables "$u2")" "t1 t2 t3 t4 t5"
}

@test "PostgreSQL: a migration with two sections that releases the lock in the first is caught at the first, before the second runs (exit 4, rolled back)" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id int);"
	rev "$m" a2 a1 "CREATE TABLE t2 (id int);
SELECT pg_advisory_unlock_all();

-- +upgrade postgresql
CREATE TABLE t3 (id int);"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_failure 4
	[[ $stderr == *"versions/a2.sql:5: this section released mig's migration lock"* ]] || fail "$stderr"
	[[ $stderr == *"the upgrade of a2 was rolled back; the version table records a1 now"* ]] || fail "$stderr"
	assert_equal "$(version_rows "$DB")" "a1"
	assert_equal "$(tables "$DB")" "t1"
}

@test "PostgreSQL: a backend ended while the server runs a step's COMMIT (sent with the next BEGIN): exit 3 naming that step, which is not counted as applied, and nothing after it runs" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	pg_sql "$DB" "CREATE SEQUENCE gate"
	rev "$m" a1 none "CREATE TABLE t1 (id int);
CREATE FUNCTION wait_at_commit() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
	FOR i IN 1..1200 LOOP
		EXIT WHEN (SELECT is_called FROM gate);
		PERFORM pg_sleep(0.05);
	END LOOP;
	RETURN NULL;
END \$\$;"
	# a2's row fires a trigger deferred to its COMMIT, which waits there
	rev "$m" a2 a1 "CREATE TABLE t2 (id int);
CREATE CONSTRAINT TRIGGER at_commit AFTER INSERT ON t2 DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION wait_at_commit();
INSERT INTO t2 VALUES (1);"
	rev "$m" a3 a2 "CREATE TABLE t3 (id int);"
	mig-upgrade -q -m "$m" -d "$URL" --to a1
	mig-upgrade -m "$m" -d "$URL" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	local run=$!
	wait_for_sql "$DB" "SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE 'COMMIT; BEGIN;%'
		AND wait_event = 'PgSleep' AND datname = current_database()"
	pg_sql "$DB" "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE query LIKE 'COMMIT; BEGIN;%' AND datname = current_database()" >/dev/null
	local rc=0
	wait "$run" || rc=$?
	local err
	err=$(cat "$BATS_TEST_TMPDIR/err")
	assert_equal "$rc" 3
	[[ $err == *"versions/a2.sql: "* ]] || fail "$err"
	# the server ended the backend inside the COMMIT: it says so, or the
	# connection closed before its answer came (then it is not known)
	[[ $err == *"terminating connection due to administrator command"* ||
		$err == *"whether the upgrade of a2 was committed is not known"* ]] || fail "$err"
	[[ $err != *"applied 1/2 a2"* && $err != *"applying 2/2 a3"* ]] || fail "$err"
	assert_equal "$(version_rows "$DB")" "a1"
	assert_equal "$(tables "$DB")" "t1"
	pg_sql "$DB" "SELECT nextval('gate')" >/dev/null
	run --separate-stderr mig-upgrade -q -m "$m" -d "$URL"
	assert_success
	assert_equal "$(version_rows "$DB")" "a3"
	assert_equal "$(tables "$DB")" "t1 t2 t3"
}
