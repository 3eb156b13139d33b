#!/usr/bin/env bats
# Red team of the SQLite pragma reset (issue 19): the reset after a
# migration runs only when SQLite's authorizer saw a PRAGMA set a value.
# Promise: no setting one migration makes reaches the next one.  Each test
# sets a pragma in one migration, by some spelling, and has the next
# migration record what it sees, in a fresh file and in one run.

load test_helper/common
load test_helper/revs

# leaks SETTER READER: a1 runs SETTER, a2 makes table seen from READER (a
# SELECT); prints seen's rows.  The run must succeed.
leaks() {
	new_db sqlite
	local m=$BATS_TEST_TMPDIR/m
	rm -rf "$m" "$DB"
	rev "$m" a1 none "CREATE TABLE t1 (id int);
$1"
	rev "$m" a2 a1 "CREATE TABLE seen AS $2;"
	run --separate-stderr mig-upgrade -q -m "$m" -d "$URL"
	assert_success
	assert_equal "$(version_rows "$DB")" "a2"
	sqlite_sql "$DB" "SELECT * FROM seen"
}

@test "legacy_alter_table, recursive_triggers and writable_schema set by every spelling do not reach the next migration" {
	local setter
	for setter in "PRAGMA legacy_alter_table = ON;" "PRAGMA main.legacy_alter_table = 1;" \
		"pragma LEGACY_ALTER_TABLE(true);" "PRAGMA \"legacy_alter_table\" = 'yes';" \
		"PRAGMA main.recursive_triggers(1);" "PRAGMA recursive_triggers = on;" \
		"PRAGMA writable_schema = 1;" "PRAGMA main.writable_schema(ON);" \
		"/* c */ PRAGMA -- c
 legacy_alter_table = ON; PRAGMA recursive_triggers = ON;"; do
		assert_equal "$(leaks "$setter" "SELECT l.legacy_alter_table, r.recursive_triggers, w.writable_schema
			FROM pragma_legacy_alter_table l, pragma_recursive_triggers r, pragma_writable_schema w")" "0|0|0"
	done
}


@test "ignore_check_constraints set by one migration does not let the next one break a CHECK" {
	new_db sqlite
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t1 (id int);
PRAGMA ignore_check_constraints = ON;"
	rev "$m" a2 a1 "CREATE TABLE pos (x int CHECK (x > 0));
INSERT INTO pos VALUES (-1);"
	run --separate-stderr mig-upgrade -m "$m" -d "$URL"
	assert_failure 3
	[[ $stderr == *"versions/a2.sql:6: CHECK constraint failed"* ]] || fail "$stderr"
	assert_equal "$(version_rows "$DB")" "a1"
	assert_equal "$(tables "$DB")" "t1"
}

@test "case_sensitive_like set by one migration does not change what LIKE matches in the next" {
	assert_equal "$(leaks "PRAGMA case_sensitive_like = ON;" "SELECT 'ABC' LIKE 'abc' AS m")" "1"
}

@test "reverse_unordered_selects set by one migration does not change the order the next one reads in" {
	assert_equal "$(leaks "PRAGMA reverse_unordered_selects = ON;" "SELECT * FROM pragma_reverse_unordered_selects")" "0"
}

@test "query_only set by one migration: the next still applies" {
	assert_equal "$(leaks "PRAGMA query_only = ON;" "SELECT * FROM pragma_query_only")" "0"
}

@test "busy_timeout set by one migration does not replace mig's own wait for the next" {
	assert_equal "$(leaks "PRAGMA busy_timeout = 1;" "SELECT * FROM pragma_busy_timeout")" "0"
}

@test "synchronous cannot be set by a migration (SQLite refuses it inside mig's transaction): exit 3 at its line, nothing kept" {
	new_db sqlite
	local m=$BATS_TEST_TMPDIR/m
	rev "$m" a0 none "CREATE TABLE t0 (id int);"
	rev "$m" a1 a0 "CREATE TABLE t1 (id int);
PRAGMA synchronous = OFF;"
	run --separate-stderr mig-upgrade -q -m "$m" -d "$URL"
	assert_failure 3
	[[ $stderr == *"versions/a1.sql:6: Safety level may not be changed inside a transaction"* ]] || fail "$stderr"
	assert_equal "$(version_rows "$DB")" "a0"
	assert_equal "$(tables "$DB")" "t0"
}

@test "foreign_keys and defer_foreign_keys set in a migration do not reach the next (foreign_keys cannot change in mig's transaction; defer_foreign_keys ends with it)" {
	assert_equal "$(leaks "PRAGMA foreign_keys = ON;" "SELECT * FROM pragma_foreign_keys")" "0"
	assert_equal "$(leaks "PRAGMA defer_foreign_keys = ON;" "SELECT * FROM pragma_defer_foreign_keys")" "0"
}
