#!/usr/bin/env bats
# Red team of PostgreSQL origins (issue 22): findings about a migrated
# object point at the statement that made it, or at the revision's header
# when the parser cannot tell, never at a wrong line.  Each test makes an
# object where its name or maker is hard to follow, and has a downgrade
# forget it (mig-verify --roundtrip), then checks the line.

load test_helper/common

setup() {
	require_pg
	m=$BATS_TEST_TMPDIR/migrations
	mkdir -p "$m/versions"
	rev a1 none 'CREATE TABLE users (
    id BIGINT PRIMARY KEY,
    name TEXT
);' 'DROP TABLE users;'
	d='the downgrade of b2 does not restore the schema'
}

# rev ID DOWN UPGRADE DOWNGRADE: a migration file whose upgrade begins at line 5
rev() {
	printf -- '-- revision: %s\n-- down_revision: %s\n\n-- +upgrade\n%s\n\n-- +downgrade\n%s\n' \
		"$1" "$2" "$3" "$4" >"$m/versions/$1.sql"
}

# found_pg ARGS: mig-verify ARGS on a fresh PostgreSQL database; its error
# lines in $found; exit 1 required
found_pg() {
	local url
	url=$(pg_new_db)
	run --separate-stderr mig-verify -m "$m" -d "$url" "$@"
	found=$(grep ': error: ' <<<"$output" || true)
	assert_equal "$status" 1
}

@test "a table name over 63 bytes: PostgreSQL truncates it, and the finding is at its statement's line" {
	local long=t_$(printf 'x%.0s' {1..70})
	rev b2 a1 "CREATE TABLE $long (id INTEGER);" 'SELECT 1;'
	found_pg --roundtrip
	assert_equal "$found" "$m/versions/b2.sql:5: error: $d: ${long:0:63}: table is not expected"
}

@test "a long name that truncates to the name of a table an older revision made: the finding is not at the older line" {
	local name63=t_$(printf 'y%.0s' {1..61})
	rev a1 none "CREATE TABLE users (id BIGINT PRIMARY KEY, name TEXT);
CREATE TABLE $name63 (id INTEGER);" "DROP TABLE $name63;
DROP TABLE users;"
	# b2 drops the 63-byte table and makes it again under a longer name
	# that PostgreSQL truncates to the same one; c3's downgrade drops a
	# column b2's statement made
	rev b2 a1 "DROP TABLE $name63;
CREATE TABLE ${name63}_and_more (id INTEGER, extra TEXT);" "DROP TABLE $name63;
CREATE TABLE $name63 (id INTEGER);"
	rev c3 b2 'CREATE TABLE tags (id INTEGER);' "DROP TABLE tags;
ALTER TABLE $name63 DROP COLUMN extra;"
	found_pg --roundtrip
	[[ $found == *"$name63.extra: column is missing"* ]] || fail "$found"
	[[ $found == "$m/versions/b2.sql:6: "* || $found == "$m/versions/b2.sql:1: "* ]] || fail "wrong line: $found"
}

@test "Unicode names, quoted and bare (PostgreSQL folds only ASCII): each at its statement's line" {
	rev b2 a1 'CREATE TABLE "Ünïcødé tåble" (id INTEGER);
CREATE TABLE CAFÉ (id INTEGER);
ALTER TABLE users ADD COLUMN Straße TEXT;' 'SELECT 1;'
	found_pg --roundtrip
	assert_equal "$(sort <<<"$found")" "$m/versions/b2.sql:5: error: $d: Ünïcødé tåble: table is not expected
$m/versions/b2.sql:6: error: $d: cafÉ: table is not expected
$m/versions/b2.sql:7: error: $d: users.straße: column is not expected"
}

@test "an index made and renamed in the same section is found at a line of that section, never another revision's" {
	rev b2 a1 'CREATE INDEX users_name ON users (name);
ALTER INDEX users_name RENAME TO users_by_name;' 'SELECT 1;'
	found_pg --roundtrip
	[[ $found == "$m/versions/b2.sql:5: error: $d: users: index users_by_name is not expected" ||
		$found == "$m/versions/b2.sql:1: error: $d: users: index users_by_name is not expected" ]] || fail "$found"
}

@test "a partitioned table and its partitions, schema-qualified and bare: the table and the column at their lines (partitions are not in the model)" {
	rev b2 a1 'CREATE TABLE public.events (id INTEGER, k INTEGER) PARTITION BY RANGE (k);
CREATE TABLE events_low PARTITION OF events FOR VALUES FROM (0) TO (10);
CREATE TABLE public.events_high PARTITION OF public.events FOR VALUES FROM (10) TO (20);
ALTER TABLE public.users ADD COLUMN email TEXT;' 'SELECT 1;'
	found_pg --roundtrip
	[[ $found == *"b2.sql:5: error: $d: events: table is not expected"* ]] || fail "$found"
	[[ $found != *events_* ]] || fail "$found"
	[[ $found == *"b2.sql:8: error: $d: users.email: column is not expected"* ]] || fail "$found"
}

@test "a table made by a statement, dropped, and made again by a DO block in the same section: the finding is at the revision's header, not the dropped statement's line" {
	rev b2 a1 'CREATE TABLE tags (id INTEGER);
DROP TABLE tags;
DO $$ BEGIN EXECUTE '"'"'CREATE TABLE tags (id INTEGER, label TEXT)'"'"'; END $$;' 'SELECT 1;'
	found_pg --roundtrip
	assert_equal "$found" "$m/versions/b2.sql:1: error: $d: tags: table is not expected"
}

@test "a table dropped and made again by a later statement of the same section: the finding is at the later statement's line" {
	rev b2 a1 'CREATE TABLE tags (id INTEGER);
DROP TABLE public.tags;
CREATE TABLE tags (id INTEGER, label TEXT);' 'SELECT 1;'
	found_pg --roundtrip
	assert_equal "$found" "$m/versions/b2.sql:7: error: $d: tags: table is not expected"
}
