#!/usr/bin/env bats
# Red team of the folded COMMIT (issue 19): on PostgreSQL a step's COMMIT
# goes with the next step's first query (COMMIT; BEGIN; SELECT now();
# SELECT ... FROM the version table).  A migration is applied exactly once
# and counted as applied (progress line, summary, outputs, JSON, exit code,
# mig_history) only when its COMMIT succeeded; a refused COMMIT fails that
# step with its file and stops the run.  Each test tries a way a migration,
# the server, a pooler or a kill could make mig count a step the server
# did not keep, keep one twice, or let one step's transaction settings
# reach the next.

load test_helper/common
load test_helper/revs
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
}

# refusing_chain DIR BAD TRIGGER_BODY: a1 makes table t1 and a constraint
# trigger deferred to COMMIT that runs TRIGGER_BODY (plpgsql) for each row
# of t1; a2..a4 each make tK and log a row in t1, and BAD's row is 'bad'.
# a4's step has a downgrade that inserts 'bad' too.
refusing_chain() {
	local k row
	rev "$1" a1 none "CREATE TABLE t1 (v text);
CREATE FUNCTION at_commit() RETURNS trigger LANGUAGE plpgsql AS \$\$
BEGIN
	IF NEW.v = 'bad' THEN $3 END IF;
	RETURN NULL;
END \$\$;
CREATE CONSTRAINT TRIGGER at_commit AFTER INSERT ON t1 DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION at_commit();"
	for k in 2 3 4; do
		row=a$k
		[[ a$k == "$2" ]] && row=bad
		rev "$1" "a$k" "a$((k - 1))" "CREATE TABLE t$k (id int);
INSERT INTO t1 VALUES ('$row');" "DROP TABLE t$k; INSERT INTO t1 VALUES ('down a$k');"
	done
}

@test "a deferred trigger that raises an exception at a middle step's COMMIT: exit 3 naming it, not in the progress, JSON or mig_history, and nothing after it runs" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	refusing_chain "$m" a3 "RAISE EXCEPTION 'refused at commit: %', NEW.v;"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL" --format json
	assert_failure 3
	[[ $(jq -r .error.message <<<"$output") == *"versions/a3.sql: COMMIT failed: "*"refused at commit: bad"* ]] || fail "$output"
	[[ $(jq -r .error.hint <<<"$output") == *"the database is still at a2"* ]] || fail "$output"
	[[ $stderr != *"applied"*"a3"* ]] || fail "$stderr"
	assert_equal "$(version_rows "$DB")" "a2"
	assert_equal "$(tables "$DB")" "t1 t2"
	assert_equal "$(pg_sql "$DB" "SELECT string_agg(revision, ' ' ORDER BY id) FROM mig_history")" "a1 a2"
	# a rerun without the bad row applies a3 and a4 once
	rev "$m" a3 a2 "CREATE TABLE t3 (id int);"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_success
	assert_equal "$(tables "$DB")" "t1 t2 t3 t4"
	assert_equal "$(pg_sql "$DB" "SELECT string_agg(revision, ' ' ORDER BY id) FROM mig_history")" "a1 a2 a3 a4"
}

@test "a deferred trigger that raises a WARNING and a NOTICE at COMMIT does not fail the step: all applied once, exit 0" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	refusing_chain "$m" a3 "RAISE WARNING 'warned at commit'; RAISE NOTICE 'noticed at commit';"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_success
	assert_equal "$(version_rows "$DB")" "a4"
	assert_equal "$(pg_sql "$DB" "SELECT string_agg(v, ' ' ORDER BY v) FROM t1")" "a2 a4 bad"
	assert_equal "$(pg_sql "$DB" "SELECT string_agg(revision, ' ' ORDER BY id) FROM mig_history")" "a1 a2 a3 a4"
}

@test "GitHub mode: a middle step refused at COMMIT by a trigger is failed in the summary and absent from the outputs" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	refusing_chain "$m" a3 "RAISE EXCEPTION 'refused at commit';"
	export GITHUB_ACTIONS=true GITHUB_WORKSPACE=$BATS_TEST_TMPDIR
	export GITHUB_STEP_SUMMARY=$BATS_TEST_TMPDIR/summary GITHUB_OUTPUT=$BATS_TEST_TMPDIR/output
	: >"$GITHUB_STEP_SUMMARY"
	: >"$GITHUB_OUTPUT"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_failure 3
	[[ $stderr == *"::error "*"versions/a3.sql: COMMIT failed: "* ]] || fail "$stderr"
	[[ $stderr != *"applied 3/4 a3"* ]] || fail "$stderr"
	grep -qx 'applied_count=2' "$GITHUB_OUTPUT" || fail "$(cat "$GITHUB_OUTPUT")"
	grep -qx 'to=a2' "$GITHUB_OUTPUT" || fail "$(cat "$GITHUB_OUTPUT")"
	! grep -qE '^\| a3 \| .* \| applied \|$' "$GITHUB_STEP_SUMMARY" || fail "$(cat "$GITHUB_STEP_SUMMARY")"
}

@test "mig-downgrade: a step whose downgrade is refused at its COMMIT (sent with the next step's BEGIN) fails with its file, and the version stays" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	refusing_chain "$m" none "RAISE EXCEPTION 'refused at commit: %', NEW.v;"
	# a3's downgrade logs a 'bad' row
	rev "$m" a3 a2 "CREATE TABLE t3 (id int);" "DROP TABLE t3; INSERT INTO t1 VALUES ('bad');"
	mig-upgrade -q -m "$m" -d "$URL"
	run --separate-stderr mig-downgrade -m "$m" -d "$URL" --to a1
	assert_failure 3
	[[ $stderr == *"versions/a3.sql: COMMIT failed: "*"refused at commit"* ]] || fail "$stderr"
	assert_equal "$(version_rows "$DB")" "a3"
	assert_equal "$(tables "$DB")" "t1 t2 t3"
	assert_equal "$(pg_sql "$DB" "SELECT string_agg(direction || ' ' || revision, ', ' ORDER BY id) FROM mig_history WHERE direction = 'down'")" "down a4"
}

@test "a step refused at COMMIT followed by a transactional: false step: the false step never runs" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	refusing_chain "$m" a2 "RAISE EXCEPTION 'refused at commit';"
	rev "$m" a3 a2 "CREATE TABLE t3 (id int);
CREATE INDEX CONCURRENTLY t3_id ON t3 (id);" "SELECT 1;" "-- transactional: false"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_failure 3
	[[ $stderr == *"versions/a2.sql: COMMIT failed: "*"refused at commit"* ]] || fail "$stderr"
	assert_equal "$(version_rows "$DB")" "a1"
	assert_equal "$(tables "$DB")" "t1"
	assert_equal "$(pg_sql "$DB" "SELECT count(*) FROM mig_history WHERE revision <> 'a1'")" "0"
}

@test "a migration that ends with COMMIT AND CHAIN is caught: exit 3 at its line, no version row for it, nothing after it" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id int);"
	rev "$m" a2 a1 "CREATE TABLE t2 (id int);
COMMIT AND CHAIN;"
	rev "$m" a3 a2 "CREATE TABLE t3 (id int);"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_failure 3
	[[ $stderr == *"versions/a2.sql:6: this statement committed mig's transaction"* ]] || fail "$stderr"
	assert_equal "$(version_rows "$DB")" "a1"
	[[ $(tables "$DB") != *t3* ]] || fail "a3 ran"
	assert_equal "$(pg_sql "$DB" "SELECT string_agg(revision, ' ' ORDER BY id) FROM mig_history")" "a1"
}

@test "a migration that ends with PREPARE TRANSACTION is caught: exit 3, no version row for it, nothing after it, no prepared transaction left" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id int);"
	rev "$m" a2 a1 "CREATE TABLE t2 (id int);
PREPARE TRANSACTION 'mig_redteam';"
	rev "$m" a3 a2 "CREATE TABLE t3 (id int);"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_failure 3
	[[ $stderr == *"versions/a2.sql:6: "* ]] || fail "$stderr"
	assert_equal "$(version_rows "$DB")" "a1"
	assert_equal "$(tables "$DB")" "t1"
	assert_equal "$(pg_sql "$DB" "SELECT count(*) FROM pg_prepared_xacts")" "0"
}

@test "transaction and session settings a migration makes do not reach the next step's folded BEGIN" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE seen (iso text, ro text, idle text, deferred text);
CREATE TABLE p (id int PRIMARY KEY);
CREATE TABLE c (pid int REFERENCES p DEFERRABLE INITIALLY IMMEDIATE);"
	rev "$m" a2 a1 "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY;
SET idle_in_transaction_session_timeout = '1s';
SET CONSTRAINTS ALL DEFERRED;
SET default_transaction_deferrable = on;"
	rev "$m" a3 a2 "INSERT INTO seen VALUES (current_setting('transaction_isolation'),
  current_setting('transaction_read_only'), current_setting('idle_in_transaction_session_timeout'), 'x');
INSERT INTO c VALUES (7);
INSERT INTO p VALUES (7);"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	# with SET CONSTRAINTS ALL DEFERRED leaking, a3 would pass; it must fail at its line
	assert_failure 3
	[[ $stderr == *"versions/a3.sql:7: "*'violates foreign key constraint'* ]] || fail "$stderr"
	assert_equal "$(version_rows "$DB")" "a2"
	rev "$m" a3 a2 "INSERT INTO seen VALUES (current_setting('transaction_isolation'),
  current_setting('transaction_read_only'), current_setting('idle_in_transaction_session_timeout'), 'x');"
	sleep 1.5
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_success
	assert_equal "$(pg_sql "$DB" "SELECT iso, ro, idle FROM seen")" "read committed|off|0"
	assert_equal "$(version_rows "$DB")" "a3"
}

@test "SET TRANSACTION ISOLATION LEVEL in a migration fails at its line (mig's BEGIN already queried), and nothing of it is kept" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id int);"
	rev "$m" a2 a1 "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;
CREATE TABLE t2 (id int);"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_failure 3
	[[ $stderr == *"versions/a2.sql:5: "*"SET TRANSACTION ISOLATION LEVEL must be called before any query"* ]] || fail "$stderr"
	assert_equal "$(version_rows "$DB")" "a1"
	assert_equal "$(tables "$DB")" "t1"
}

@test "PgBouncer (transaction mode): a middle step refused at COMMIT fails with its file, and a rerun applies the rest once" {
	[[ -n ${MIG_PGB_PORT:-} ]] || skip "needs PgBouncer"
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m via
	via=$(pgbouncer_url "$URL")
	refusing_chain "$m" a3 "RAISE EXCEPTION 'refused at commit';"
	run --separate-stderr mig-upgrade -q -m "$m" -d "$via"
	assert_failure 3
	[[ $stderr == *"versions/a3.sql: COMMIT failed: "*"refused at commit"* ]] || fail "$stderr"
	assert_equal "$(version_rows "$DB")" "a2"
	assert_equal "$(tables "$DB")" "t1 t2"
	rev "$m" a3 a2 "CREATE TABLE t3 (id int);"
	run --separate-stderr mig-upgrade -q -m "$m" -d "$via"
	assert_success
	assert_equal "$(pg_sql "$DB" "SELECT string_agg(revision, ' ' ORDER BY id) FROM mig_history")" "a1 a2 a3 a4"
	assert_equal "$(tables "$DB")" "t1 t2 t3 t4"
}

@test "mig killed (SIGKILL) after a step's version write, before its COMMIT is sent: the step is not recorded, and a rerun applies each step once" {
	command -v gdb >/dev/null || skip "needs gdb to stop mig at the exact point"
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	chain_log() {
		rev "$m" a1 none "CREATE TABLE log (rev text); INSERT INTO log VALUES ('a1');"
		rev "$m" a2 a1 "INSERT INTO log VALUES ('a2');"
		rev "$m" a3 a2 "INSERT INTO log VALUES ('a3');"
	}
	chain_log
	# stop mig at its first "COMMIT; BEGIN; ..." query, which it has not
	# sent yet (a1's section and version row ran in the open transaction),
	# and SIGKILL it there
	run gdb -q -batch -nx \
		-ex 'set breakpoint pending on' \
		-ex 'break PQsendQuery if $_memeq((char *) $rsi, "COMMIT;", 7)' \
		-ex run -ex 'info registers rip' -ex 'kill' \
		--args "$(command -v mig-upgrade)" -m "$m" -d "$URL"
	[[ $output == *"Breakpoint 1, "* ]] || fail "mig was not stopped: $output"
	[[ $output != *"applied"* ]] || fail "$output"
	assert_equal "$(pg_sql "$DB" "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'")" "0"
	assert_equal "$(version_rows "$DB")" ""
	assert_equal "$(tables "$DB")" ""
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_success
	assert_equal "$(pg_sql "$DB" "SELECT string_agg(rev, ' ' ORDER BY rev) FROM log")" "a1 a2 a3"
	assert_equal "$(pg_sql "$DB" "SELECT string_agg(revision, ' ' ORDER BY id) FROM mig_history")" "a1 a2 a3"
}
