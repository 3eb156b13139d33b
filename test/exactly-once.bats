#!/usr/bin/env bats
# Exactly once, or refused (issue 15): migrations whose SQL tries to leave
# mig's transaction, or to redirect the version table, and databases that
# do not keep what is committed.  Each test states the database before and
# after, the exit code and the message, on SQLite and on PostgreSQL.

load test_helper/common
load test_helper/revs

# --- COMMIT, ROLLBACK and BEGIN inside a section -----------------------------

commit_inside() {
	new_db "$1"
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t0 (id INTEGER PRIMARY KEY);"
	rev "$m" a2 a1 "CREATE TABLE t1 (id INTEGER PRIMARY KEY);
COMMIT;
CREATE TABLE t2 (id INTEGER PRIMARY KEY);"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL" --to a1
	assert_success
	assert_equal "$(version_rows "$DB")" "a1"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_failure 3
	[[ $stderr == *"versions/a2.sql:6: this statement committed mig's transaction"* ]] || fail "$stderr"
	[[ $stderr == *"BEGIN, COMMIT and ROLLBACK do not belong in a transactional section"* ]] || fail "$stderr"
	[[ $stderr == *"The version table records a1, without a2"* ]] || fail "$stderr"
	# a2 is not recorded: the database still reads a1 and nothing says a2
	assert_equal "$(version_rows "$DB")" "a1"
}

@test "SQLite: a COMMIT in a transactional section is refused (exit 3, its line); what ran before it stays and is said, nothing after it runs" {
	commit_inside sqlite
	[[ $stderr == *"What a2 ran before that statement was committed by it; nothing after it ran."* ]] || fail "$stderr"
	assert_equal "$(tables "$DB")" "t0 t1"
}

@test "PostgreSQL: a COMMIT in a transactional section is refused (exit 3, its line), and the statements that ran after it are said" {
	commit_inside postgresql
	[[ $stderr == *"was committed by it; the statements after it in that section ran outside mig's transaction, and stay."* ]] || fail "$stderr"
	assert_equal "$(tables "$DB")" "t0 t1 t2"
}

rollback_inside() {
	new_db "$1"
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t0 (id INTEGER PRIMARY KEY);"
	rev "$m" a2 a1 "CREATE TABLE t1 (id INTEGER PRIMARY KEY);
-- the next statement throws away t1 and mig's transaction
ROLLBACK;
CREATE TABLE t2 (id INTEGER PRIMARY KEY);"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL" --to a1
	assert_success
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_failure 3
	[[ $stderr == *"versions/a2.sql:7: this statement rolled back mig's transaction"* ]] || fail "$stderr"
	[[ $stderr == *"What a2 ran before that statement was rolled back by it"* ]] || fail "$stderr"
	assert_equal "$(version_rows "$DB")" "a1"
}

@test "SQLite: a ROLLBACK in a transactional section is refused (exit 3, its line); nothing of the step stays" {
	rollback_inside sqlite
	[[ $stderr == *"nothing of the step stays"* ]] || fail "$stderr"
	assert_equal "$(tables "$DB")" "t0"
}

@test "PostgreSQL: a ROLLBACK in a transactional section exits 3, not 0, and says the statement after it stayed" {
	rollback_inside postgresql
	[[ $stderr == *"the statements after it in that section ran outside mig's transaction, and stay."* ]] || fail "$stderr"
	assert_equal "$(tables "$DB")" "t0 t2"
}

# reopened ENDING REOPENING: a2 ends mig's transaction with ENDING, opens
# another with REOPENING, and goes on; on PostgreSQL the state reads "open"
# again at the end of the section, so only the transaction's identity tells.
reopened() {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t0 (id INTEGER PRIMARY KEY);"
	rev "$m" a2 a1 "CREATE TABLE t1 (id INTEGER PRIMARY KEY);
$1${2:+
$2}
CREATE TABLE t2 (id INTEGER PRIMARY KEY);"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL" --to a1
	assert_success
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_failure 3
	assert_equal "$(version_rows "$DB")" "a1"
	# t2 ran in the transaction the migration opened, which mig rolled back
	[[ $(tables "$DB") != *t2* ]] || fail "t2 stayed: $(tables "$DB")"
	[[ $(history_rows "$DB") != *a2* ]] || fail "a history row for a2: $(history_rows "$DB")"
}

@test "PostgreSQL: COMMIT; BEGIN in a transactional section is refused (exit 3, its line), not recorded as applied" {
	reopened "COMMIT;" "BEGIN;"
	[[ $stderr == *"versions/a2.sql:6: this statement committed mig's transaction"* ]] || fail "$stderr"
	assert_equal "$(tables "$DB")" "t0 t1"
}

@test "PostgreSQL: ROLLBACK; START TRANSACTION in a transactional section is refused (exit 3), nothing of it recorded" {
	reopened "ROLLBACK;" "START TRANSACTION;"
	[[ $stderr == *"versions/a2.sql:6: this statement rolled back mig's transaction"* ]] || fail "$stderr"
	assert_equal "$(tables "$DB")" "t0"
}

@test "PostgreSQL: COMMIT AND CHAIN and END; BEGIN are refused as well" {
	reopened "COMMIT AND CHAIN;"
	[[ $stderr == *"versions/a2.sql:6: this statement committed mig's transaction"* ]] || fail "$stderr"
	reopened "END;" "BEGIN;"
	[[ $stderr == *"versions/a2.sql:6: this statement committed mig's transaction"* ]] || fail "$stderr"
}

@test "SQLite: a ROLLBACK in the first migration leaves the file as it was: no version table, no tables" {
	new_db sqlite
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER PRIMARY KEY);
ROLLBACK;"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_failure 3
	[[ $stderr == *"versions/a1.sql:6: this statement rolled back mig's transaction"* ]] || fail "$stderr"
	[[ $stderr == *"The version table records base, without a1; nothing of the step stays."* ]] || fail "$stderr"
	assert_equal "$(sqlite_tables "$DB")" ""
	# and the next run, with the statement removed, applies it once
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER PRIMARY KEY);"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_success
	assert_equal "$(version_rows "$DB")" "a1"
	assert_equal "$(tables "$DB")" "t1"
}

@test "SQLite: a BEGIN in a transactional section fails at its line and rolls the step back" {
	new_db sqlite
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER PRIMARY KEY);
BEGIN;
CREATE TABLE t2 (id INTEGER PRIMARY KEY);"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_failure 3
	[[ $stderr == *"versions/a1.sql:6: cannot start a transaction within a transaction"* ]] || fail "$stderr"
	assert_equal "$(sqlite_tables "$DB")" ""
}

@test "PostgreSQL: a transactional: false section that leaves a transaction open is refused (exit 3, its line) and that transaction rolled back" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t0 (id INTEGER PRIMARY KEY);"
	rev "$m" a2 a1 "CREATE TABLE t1 (id INTEGER PRIMARY KEY);
BEGIN;
CREATE TABLE t2 (id INTEGER PRIMARY KEY);" "SELECT 1;" "-- transactional: false"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_failure 3
	[[ $stderr == *"versions/a2.sql:7: this statement began a transaction and left it open"* ]] || fail "$stderr"
	[[ $stderr == *"the one it left open was rolled back with what ran in it, and what a2 ran before that statement stays"* ]] || fail "$stderr"
	[[ $stderr == *"the version table records a1, without a2"* ]] || fail "$stderr"
	assert_equal "$(version_rows "$DB")" "a1"
	assert_equal "$(tables "$DB")" "t0 t1"
}

@test "PostgreSQL: SAVEPOINT and ROLLBACK TO inside a transactional section are allowed" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER PRIMARY KEY);
SAVEPOINT s;
CREATE TABLE t2 (id INTEGER PRIMARY KEY);
ROLLBACK TO SAVEPOINT s;"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_success
	assert_equal "$(version_rows "$DB")" "a1"
	assert_equal "$(tables "$DB")" "t1"
}

@test "SQLite: SAVEPOINT and ROLLBACK TO inside a transactional section are allowed" {
	new_db sqlite
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER PRIMARY KEY);
SAVEPOINT s;
CREATE TABLE t2 (id INTEGER PRIMARY KEY);
ROLLBACK TO SAVEPOINT s;
RELEASE s;"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_success
	assert_equal "$(version_rows "$DB")" "a1"
	assert_equal "$(tables "$DB")" "t1"
}

# --- the version table is one object for the whole run ------------------------

@test "PostgreSQL: a migration's SET search_path does not make mig lose the version table: nothing is applied twice" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE SCHEMA app;
SET search_path TO app, public;"
	rev "$m" a2 a1 "CREATE TABLE app.t2 (id INTEGER PRIMARY KEY);"
	rev "$m" a3 a2 "INSERT INTO app.t2 VALUES (1);"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_success
	[[ $output != *"continuing from"* ]] || fail "$output"
	assert_equal "$(no_progress <<<"$stderr")" ""
	assert_equal "$(version_rows "$DB")" "a3"
	assert_equal "$(pg_sql "$DB" "SELECT string_agg(n.nspname, ' ') FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 'alembic_version'")" "public"
	assert_equal "$(pg_sql "$DB" "SELECT count(*) FROM app.t2")" "1"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_success
	assert_output "nothing to do: database is at a3"
}

temp_shadow() {
	new_db "$1"
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TEMP TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);
INSERT INTO alembic_version VALUES ('zzz');"
	rev "$m" a2 a1 "CREATE TABLE t2 (id INTEGER PRIMARY KEY);"
	rev "$m" a3 a2 "INSERT INTO t2 VALUES (1);"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_success
	assert_equal "$(no_progress <<<"$stderr")" ""
	assert_line --partial "database is at a3 (3 applied"
	assert_equal "$(version_rows "$DB")" "a3"
	assert_equal "$(sql "$DB" "SELECT count(*) FROM t2")" "1"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_success
	assert_output "nothing to do: database is at a3"
}

@test "SQLite: a temporary table named alembic_version does not shadow the real one" {
	temp_shadow sqlite
}

@test "PostgreSQL: a temporary table named alembic_version does not shadow the real one" {
	temp_shadow postgresql
}

@test "PostgreSQL: a migration that drops and re-creates the version table is stopped: it is not the object the run resolved" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER PRIMARY KEY);"
	rev "$m" a2 a1 "DROP TABLE alembic_version;
CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY);
INSERT INTO alembic_version VALUES ('a1');"
	rev "$m" a3 a2 "CREATE TABLE t3 (id INTEGER PRIMARY KEY);"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_failure 3
	[[ $stderr == *'the version table "public"."alembic_version" was dropped and created again during this run; stopped'* ]] || fail "$stderr"
	assert_equal "$(version_rows "$DB")" "a2"
	assert_equal "$(tables "$DB")" "t1"
}

@test "PostgreSQL: runs with and without --version-schema public take the same migration lock" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER PRIMARY KEY);
INSERT INTO t1 VALUES (1);
DO \$\$ BEGIN
  WHILE NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = 'go_on') LOOP
    PERFORM pg_sleep(0.05);
  END LOOP;
END \$\$;"
	mig-upgrade -q -m "$m" -d "$URL" >"$BATS_TEST_TMPDIR/first.out" 2>&1 &
	local first=$!
	local i
	for ((i = 0; i < 600; i++)); do
		[[ $(pg_sql "$DB" "SELECT count(*) FROM pg_stat_activity
			WHERE query LIKE '%go_on%' AND state = 'active' AND datname = current_database()
			AND pid <> pg_backend_pid()") == 1 ]] && break
		sleep 0.1
	done
	((i < 600)) || fail "the first run never reached its migration"
	# (timeout: a run that does not wait for the lock blocks on t1 instead)
	run --separate-stderr timeout 60 mig-upgrade -m "$m" -d "$URL" --version-schema public --lock-timeout 1
	pg_sql "$DB" "CREATE SCHEMA go_on"
	wait "$first" || fail "the first run failed: $(cat "$BATS_TEST_TMPDIR/first.out")"
	assert_failure 4
	[[ $stderr == *"waiting for the migration lock"* ]] || fail "$stderr"
	assert_equal "$(version_rows "$DB")" "a1"
	assert_equal "$(pg_sql "$DB" "SELECT count(*) FROM t1")" "1"
}

# --- a database that does not keep what is committed ----------------------------

@test "SQLite: a file that swallows writes is a database error after one step, not an endless loop" {
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER PRIMARY KEY);"
	rev "$m" a2 a1 "CREATE TABLE t2 (id INTEGER PRIMARY KEY);"
	ln -s /dev/null "$BATS_TEST_TMPDIR/swallow.db"
	run --separate-stderr timeout 20 mig-upgrade -m "$m" -d "$(sqlite_url "$BATS_TEST_TMPDIR/swallow.db")"
	assert_failure 3
	[[ $stderr == *"the version table reads base again, as before this run's upgrade of a1 was committed: the database did not keep that commit"* ]] || fail "$stderr"
	# one step ran, and was not run again
	assert_equal "$(grep -c "applied" <<<"$output")" 1
}

@test "SQLite: a file that swallows writes fails also when the plan has one step" {
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER PRIMARY KEY);"
	ln -s /dev/null "$BATS_TEST_TMPDIR/swallow.db"
	run --separate-stderr timeout 20 mig-upgrade -m "$m" -d "$(sqlite_url "$BATS_TEST_TMPDIR/swallow.db")"
	assert_failure 3
	[[ $stderr == *"did not keep that commit"* ]] || fail "$stderr"
}

# --- a run's own committed steps ------------------------------------------------

downgrade_own_step() {
	new_db "$1"
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER PRIMARY KEY);" "DROP TABLE t1;"
	rev "$m" a2 a1 "CREATE TABLE t2 (id INTEGER PRIMARY KEY);" "DROP TABLE t2;"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_success
	run --separate-stderr mig-downgrade -m "$m" -d "$URL" --to -1
	assert_success
	assert_line --partial "reverted a2"
	assert_equal "$(version_rows "$DB")" "a1"
	assert_equal "$(tables "$DB")" "t1"
}

@test "SQLite: mig-downgrade --to -1 reverts one revision and exits 0" {
	downgrade_own_step sqlite
}

@test "PostgreSQL: mig-downgrade --to -1 reverts one revision and exits 0" {
	downgrade_own_step postgresql
}

# --- transactional: false on PostgreSQL, statement by statement -------------------

@test "PostgreSQL: a transactional: false section with two CREATE INDEX CONCURRENTLY runs, and its version row is written after them" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER);"
	rev "$m" a2 a1 "CREATE INDEX CONCURRENTLY ix_t1_a ON t1 (a);
-- a comment; with a semicolon
CREATE INDEX CONCURRENTLY ix_t1_b ON t1 (b);" "DROP INDEX CONCURRENTLY ix_t1_b;
DROP INDEX CONCURRENTLY ix_t1_a;" "-- transactional: false"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_success
	assert_equal "$(no_progress <<<"$stderr")" ""
	assert_equal "$(version_rows "$DB")" "a2"
	assert_equal "$(pg_sql "$DB" "SELECT string_agg(indexname, ' ' ORDER BY indexname)
		FROM pg_indexes WHERE tablename = 't1' AND indexname LIKE 'ix_%'")" "ix_t1_a ix_t1_b"
	run --separate-stderr mig-downgrade -m "$m" -d "$URL" --to a1
	assert_success
	assert_equal "$(version_rows "$DB")" "a1"
	assert_equal "$(pg_sql "$DB" "SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'ix_%'")" "0"
}

@test "PostgreSQL: a failure in a transactional: false section names its line and the statements that ran before it; no version row" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER PRIMARY KEY, a INTEGER);
INSERT INTO t1 VALUES (1, 1), (2, 1);"
	rev "$m" a2 a1 "CREATE INDEX CONCURRENTLY ix_t1_a ON t1 (a);
INSERT INTO t1 VALUES (3, 3);
CREATE UNIQUE INDEX CONCURRENTLY ux_t1_a ON t1 (a);
INSERT INTO t1 VALUES (4, 4);" "SELECT 1;" "-- transactional: false"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_failure 3
	[[ $stderr == *"versions/a2.sql:8: could not create unique index \"ux_t1_a\""* ]] || fail "$stderr"
	[[ $stderr == *"(the section had run 2 statements before it, each committed on its own, which stay: lines 6, 7)"* ]] || fail "$stderr"
	[[ $stderr == *"a2 is transactional: false"* ]] || fail "$stderr"
	assert_equal "$(version_rows "$DB")" "a1"
	assert_equal "$(pg_sql "$DB" "SELECT string_agg(id::text, ' ' ORDER BY id) FROM t1")" "1 2 3"
}

@test "PostgreSQL: the failing statement's line is exact after a DO \$\$ block, an E'' string and a nested comment" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER PRIMARY KEY);
DO \$\$
BEGIN
  PERFORM 1; -- a semicolon inside the body
END \$\$;
SELECT E'it\\'s; still one string';
/* a /* nested */ comment; with a semicolon */
INSERT INTO t1 VALUES (1);
INSERT INTO t1 VALUES (1);"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_failure 3
	[[ $stderr == *"versions/a1.sql:13: duplicate key value violates unique constraint"* ]] || fail "$stderr"
	assert_equal "$(tables "$DB")" ""
}

# --- overlapping version rows ---------------------------------------------------

overlapping_rows() {
	new_db "$1"
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER PRIMARY KEY);" "DROP TABLE t1;"
	rev "$m" a2 a1 "CREATE TABLE t2 (id INTEGER PRIMARY KEY);" "DROP TABLE t2;"
	rev "$m" a3 a2 "CREATE TABLE t3 (id INTEGER PRIMARY KEY);" "DROP TABLE t3;"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL" --to a2
	assert_success
	sql "$DB" "INSERT INTO alembic_version VALUES ('a1')"
	local before
	before=$(db_fingerprint "$DB")
	assert_equal "$(version_rows "$DB")" "a1 a2"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_failure 4
	[[ $stderr == *"the version table holds overlapping rows (a1, a2): a1 is an ancestor of another row"* ]] || fail "$stderr"
	run --separate-stderr mig-downgrade -m "$m" -d "$URL" --to base
	assert_failure 4
	[[ $stderr == *"overlapping rows"* ]] || fail "$stderr"
	run --separate-stderr mig-stamp -m "$m" -d "$URL" a3
	assert_failure 4
	assert_equal "$(db_fingerprint "$DB")" "$before"
	run --separate-stderr mig-status -m "$m" -d "$URL"
	assert_success
	assert_line --partial "state:    overlapping rows"
	run --separate-stderr mig-status -m "$m" -d "$URL" --format json
	assert_success
	[[ $output == *'"state":"overlapping"'* && $output == *'"overlapping":["a1"]'* ]] || fail "$output"
	# --force keeps the rows of the line it stamps, as Alembic: a2 at a1, a2
	# would stay overlapping, and is refused
	run --separate-stderr mig-stamp -m "$m" -d "$URL" --force a2
	assert_failure 2
	[[ $stderr == *"the rows after the stamp would overlap: 'a1' is an ancestor of 'a2'"* ]] || fail "$stderr"
	[[ $stderr == *"mig-stamp --purge a2"* ]] || fail "$stderr"
	assert_equal "$(db_fingerprint "$DB")" "$before"
	# the repair the hint names
	run --separate-stderr mig-stamp -m "$m" -d "$URL" --purge a2
	assert_success
	assert_equal "$(version_rows "$DB")" "a2"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_success
	assert_equal "$(version_rows "$DB")" "a3"
	assert_equal "$(tables "$DB")" "t1 t2 t3"
}

@test "SQLite: overlapping version rows are refused by mig-upgrade, mig-downgrade and mig-stamp (exit 4, nothing changed) and reported by mig-status" {
	overlapping_rows sqlite
}

@test "PostgreSQL: overlapping version rows are refused by mig-upgrade, mig-downgrade and mig-stamp (exit 4, nothing changed) and reported by mig-status" {
	overlapping_rows postgresql
}

# --- application tables are in the default schema, whatever --version-schema says ---

# legacy_with_version_schema: sets URL to a PostgreSQL database whose
# application tables (t1, t2) were made without mig, and a schema meta for
# the version table; m holds the two migrations that create them.
legacy_with_version_schema() {
	new_db postgresql
	m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER PRIMARY KEY);" "DROP TABLE t1;"
	rev "$m" a2 a1 "CREATE TABLE t2 (id INTEGER PRIMARY KEY);" "DROP TABLE t2;"
	pg_sql "$URL" "CREATE SCHEMA meta; CREATE TABLE t1 (id INTEGER PRIMARY KEY); CREATE TABLE t2 (id INTEGER PRIMARY KEY)"
}

@test "PostgreSQL: with --version-schema, a legacy database in the default schema is refused as legacy, not read as empty" {
	legacy_with_version_schema
	run --separate-stderr mig-upgrade -m "$m" -d "$URL" --version-schema meta
	assert_failure 4
	[[ $stderr == *"the database has 2 tables but no version rows"* ]] || fail "$stderr"
	assert_equal "$(pg_sql "$URL" "SELECT count(*) FROM pg_tables WHERE tablename = 'alembic_version'")" "0"
	run --separate-stderr mig-status -m "$m" -d "$URL" --version-schema meta
	assert_line --partial "state:    legacy (2 tables"
}

@test "PostgreSQL: mig-stamp stamps a legacy database with --version-schema, and mig-upgrade then goes on from there" {
	legacy_with_version_schema
	run --separate-stderr mig-stamp -m "$m" -d "$URL" --version-schema meta a2
	assert_success
	assert_equal "$(pg_sql "$URL" "SELECT string_agg(version_num, ' ') FROM meta.alembic_version")" "a2"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL" --version-schema meta
	assert_success
	assert_output "nothing to do: database is at a2"
	run --separate-stderr mig-status -m "$m" -d "$URL" --version-schema meta
	assert_line --partial "state:    current"
}

@test "PostgreSQL: mig-verify -d with --version-schema refuses a database whose default schema has tables" {
	legacy_with_version_schema
	run --separate-stderr mig-verify -m "$m" -d "$URL" --version-schema meta
	assert_failure 4
	[[ $stderr == *"is not empty (2 tables: t1, t2)"* ]] || fail "$stderr"
	assert_equal "$(pg_sql "$URL" "SELECT count(*) FROM pg_tables WHERE tablename = 'alembic_version'")" "0"
}

@test "PostgreSQL: mig-verify -d with --version-schema refuses a database that has only the version table there" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER PRIMARY KEY);" "DROP TABLE t1;"
	pg_sql "$URL" "CREATE SCHEMA meta; CREATE TABLE meta.alembic_version (version_num VARCHAR(32) PRIMARY KEY)"
	run --separate-stderr mig-verify -m "$m" -d "$URL" --version-schema meta
	assert_failure 4
	[[ $stderr == *"is not empty (1 table: alembic_version)"* ]] || fail "$stderr"
	assert_equal "$(tables "$URL")" "meta.alembic_version"
}

@test "PostgreSQL: mig-verify -d with --version-schema applies everything to an empty database and finds its tables" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER PRIMARY KEY);" "DROP TABLE t1;"
	pg_sql "$URL" "CREATE SCHEMA meta"
	run --separate-stderr mig-verify -m "$m" -d "$URL" --version-schema meta --expect-table t1
	assert_success
	assert_equal "$(pg_sql "$URL" "SELECT string_agg(version_num, ' ') FROM meta.alembic_version")" "a1"
}

# --- mig-stamp keeps other branches' rows --------------------------------------

stamp_keeps_branches() {
	new_db "$1"
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a0 none "CREATE TABLE t0 (id INTEGER PRIMARY KEY);" "DROP TABLE t0;"
	rev "$m" b1 a0 "CREATE TABLE tb1 (id INTEGER PRIMARY KEY);" "DROP TABLE tb1;"
	rev "$m" b2 b1 "CREATE TABLE tb2 (id INTEGER PRIMARY KEY);" "DROP TABLE tb2;"
	rev "$m" c1 a0 "CREATE TABLE tc1 (id INTEGER PRIMARY KEY);" "DROP TABLE tc1;"
	rev "$m" c2 c1 "CREATE TABLE tc2 (id INTEGER PRIMARY KEY);" "DROP TABLE tc2;"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL" --to c2
	assert_success
	run --separate-stderr mig-upgrade -m "$m" -d "$URL" --to b1
	assert_success
	assert_equal "$(version_rows "$DB")" "b1 c2"
	# b2 applied by hand; the record is repaired with a stamp
	sql "$DB" "CREATE TABLE tb2 (id INTEGER PRIMARY KEY)"
	run --separate-stderr mig-stamp -m "$m" -d "$URL" --force --no-verify b2
	assert_success
	assert_equal "$(version_rows "$DB")" "b2 c2"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL" --to heads
	assert_success
	assert_output "nothing to do: database is at b2, c2"
	# stamping back onto one branch replaces only that branch's row
	run --separate-stderr mig-stamp -m "$m" -d "$URL" --force --no-verify c1
	assert_success
	assert_equal "$(version_rows "$DB")" "b2 c1"
	# and base removes every row
	run --separate-stderr mig-stamp -m "$m" -d "$URL" --force base
	assert_success
	assert_equal "$(version_rows "$DB")" ""
}

@test "SQLite: mig-stamp --force replaces only the target's branch: another branch's row stays (as Alembic's stamp)" {
	stamp_keeps_branches sqlite
}

@test "PostgreSQL: mig-stamp --force replaces only the target's branch: another branch's row stays (as Alembic's stamp)" {
	stamp_keeps_branches postgresql
}

# --- foreign tables do not make a database legacy ------------------------------

foreign_tables() {
	new_db "$1"
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER PRIMARY KEY);" "DROP TABLE t1;"
	rev "$m" a2 a1 "CREATE TABLE t2 (id INTEGER PRIMARY KEY);" "DROP TABLE t2;"
	sql "$DB" "CREATE TABLE monitoring_probe (id INTEGER PRIMARY KEY); INSERT INTO monitoring_probe VALUES (7)"
	run --separate-stderr mig-status -m "$m" -d "$URL"
	assert_success
	assert_line --partial "state:    empty"
	assert_line "foreign:  monitoring_probe (no migration creates it; left alone)"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_success
	assert_equal "$(version_rows "$DB")" "a2"
	assert_equal "$(tables "$DB")" "monitoring_probe t1 t2"
	assert_equal "$(sql "$DB" "SELECT id FROM monitoring_probe")" "7"
}

@test "SQLite: a table no migration creates is reported as foreign and does not block mig-upgrade" {
	foreign_tables sqlite
}

@test "PostgreSQL: a table no migration creates is reported as foreign and does not block mig-upgrade" {
	foreign_tables postgresql
}

foreign_beside_legacy() {
	new_db "$1"
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER PRIMARY KEY);" "DROP TABLE t1;"
	sql "$DB" "CREATE TABLE t1 (id INTEGER PRIMARY KEY); CREATE TABLE monitoring_probe (id INTEGER PRIMARY KEY)"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_failure 4
	[[ $stderr == *"the database has 1 table but no version rows"* ]] || fail "$stderr"
	assert_equal "$(version_rows "$DB")" ""
	run --separate-stderr mig-stamp -m "$m" -d "$URL" a1
	assert_success
	assert_equal "$(version_rows "$DB")" "a1"
	assert_equal "$(tables "$DB")" "monitoring_probe t1"
}

@test "SQLite: a legacy database with a foreign table is legacy for its own tables, and the advised stamp works" {
	foreign_beside_legacy sqlite
}

@test "PostgreSQL: a legacy database with a foreign table is legacy for its own tables, and the advised stamp works" {
	foreign_beside_legacy postgresql
}

@test "PostgreSQL: a failure in the second section of a transactional: false migration is not reported as rolled back" {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER PRIMARY KEY, a INTEGER);"
	mkdir -p "$m/versions"
	cat >"$m/versions/a2.sql" <<'SQL'
-- revision: a2
-- down_revision: a1
-- transactional: false

-- +upgrade
CREATE INDEX CONCURRENTLY ix_t1_a ON t1 (a);

-- +upgrade postgresql
SELECT 1 / 0;

-- +downgrade
DROP INDEX ix_t1_a;
SQL
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_failure 3
	[[ $stderr == *"versions/a2.sql:9: division by zero (the section's first statement: nothing of it ran)"* ]] || fail "$stderr"
	[[ $stderr == *"a2 is transactional: false: each of its statements ran on its own, so those before the failing one stay (its earlier sections whole); the version table still records a1, without a2"* ]] || fail "$stderr"
	[[ $stderr != *"rolled back"* ]] || fail "$stderr"
	assert_equal "$(version_rows "$DB")" "a1"
	assert_equal "$(pg_sql "$DB" "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_t1_a'")" "1"
}

# concurrent_nontx MODE STATEMENT: four deploys at once of a transactional:
# false migration that counts its runs; each exits 0 and it ran once.
concurrent_nontx() {
	new_db postgresql
	local m=$BATS_TEST_TMPDIR/m i
	rev "$m" a1 none "CREATE TABLE t1 (id INTEGER PRIMARY KEY, a INTEGER);
CREATE TABLE runs (n INTEGER);"
	rev "$m" a2 a1 "INSERT INTO runs VALUES (1);
SELECT pg_sleep(0.3);
$2" "SELECT 1;" "-- transactional: false"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL" --to a1
	assert_success
	local pids=()
	for i in 1 2 3 4; do
		timeout 60 mig-upgrade -q -m "$m" -d "$URL" --lock-mode "$1" \
			>"$BATS_TEST_TMPDIR/out$i" 2>&1 &
		pids+=($!)
	done
	for i in 0 1 2 3; do
		wait "${pids[i]}" || fail "deploy $((i + 1)) failed: $(cat "$BATS_TEST_TMPDIR/out$((i + 1))")"
	done
	assert_equal "$(version_rows "$DB")" "a2"
	assert_equal "$(pg_sql "$DB" "SELECT count(*) FROM runs")" "1"
}

@test "PostgreSQL: four concurrent deploys with --lock-mode transaction run a transactional: false migration once" {
	concurrent_nontx transaction "VACUUM t1;"
}

@test "PostgreSQL: four concurrent deploys with the session lock run a transactional: false migration once" {
	concurrent_nontx session "VACUUM t1;"
}

@test "PostgreSQL: four concurrent deploys with --lock-mode transaction run a CREATE INDEX CONCURRENTLY migration once, without waiting on each other's snapshots" {
	concurrent_nontx transaction "CREATE INDEX CONCURRENTLY ix_t1_a ON t1 (a);"
	assert_equal "$(pg_sql "$DB" "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_t1_a'")" "1"
}

@test "PostgreSQL: four concurrent deploys with the session lock run a CREATE INDEX CONCURRENTLY migration once (no deadlock with the waiters)" {
	concurrent_nontx session "CREATE INDEX CONCURRENTLY ix_t1_a ON t1 (a);"
	assert_equal "$(pg_sql "$DB" "SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_t1_a'")" "1"
}
