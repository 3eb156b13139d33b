#!/usr/bin/env bats
# On PostgreSQL too, findings about migrated objects point at the migration
# file and line of the statement that made the object (tools/lib/origins.h,
# tools/lib/pg_origins.h): the same line as on SQLite for the same
# migration, and the revision's header, never a wrong line, where
# PostgreSQL's parser cannot name what a statement made.

load test_helper/common
use_sanitizer_build

setup() {
	m=$BATS_TEST_TMPDIR/migrations
	mkdir -p "$m/versions"
	# users: made at a1's line 5 (the statement's first token)
	rev a1 none 'CREATE TABLE users (
    id BIGINT PRIMARY KEY,
    name TEXT,
    email TEXT
);' 'DROP TABLE users;'
}

# rev ID DOWN UPGRADE DOWNGRADE: a migration file whose upgrade begins at line 5
rev() {
	printf -- '-- revision: %s\n-- down_revision: %s\n\n-- +upgrade\n%s\n\n-- +downgrade\n%s\n' \
		"$1" "$2" "$3" "$4" >"$m/versions/$1.sql"
}

# errors KIND [ARGS...]: mig-verify ARGS on a fresh database of KIND
# ("sqlite" or "pg"): its error lines in $found, its status in $status
errors() {
	local kind=$1 url
	shift
	if [[ $kind == sqlite ]]; then
		url=$(sqlite_url "$BATS_TEST_TMPDIR/$RANDOM$RANDOM.db")
	else
		url=$(pg_new_db)
	fi
	run --separate-stderr mig-verify -m "$m" -d "$url" "$@"
	found=$(grep ': error: ' <<<"$output" || true)
}

# same_on_both WANT ARGS...: mig-verify ARGS finds exactly the error lines
# WANT (one a line) on SQLite and, the same, on PostgreSQL; exit 1 on both
same_on_both() {
	local want=$1
	shift
	errors sqlite "$@"
	assert_equal "$status" 1
	assert_equal "$found" "$want"
	errors pg "$@"
	assert_equal "$status" 1
	assert_equal "$found" "$want"
}

@test "the fk-type finding names the same file and line on SQLite and PostgreSQL: text, JSON, annotation" {
	require_pg
	# PostgreSQL accepts an integer key to a bigint column; the rule does not
	rev b2 a1 'CREATE TABLE posts (id INTEGER PRIMARY KEY);
-- the author
ALTER TABLE posts
    ADD COLUMN author_id INTEGER REFERENCES users (id);' 'DROP TABLE posts;'
	msg='posts.author_id: type integer, but its foreign key references users.id of type bigint'
	same_on_both "$m/versions/b2.sql:7: error: $msg"
	url=$(pg_new_db)
	run --separate-stderr mig-verify -m "$m" -d "$url" --format json
	assert_failure 1
	assert_equal "$(jq -c '.findings[] | select(.code == "fk-type") | [.file, .line]' <<<"$output")" \
		"[\"$m/versions/b2.sql\",7]"
	url=$(pg_new_db)
	GITHUB_ACTIONS=true GITHUB_WORKSPACE=$BATS_TEST_TMPDIR GITHUB_STEP_SUMMARY=$BATS_TEST_TMPDIR/summary \
		run --separate-stderr mig-verify -q -m "$m" -d "$url"
	assert_failure 1
	[[ $stderr == *"::error file=migrations/versions/b2.sql,line=7,title=mig fk-type::$msg"* ]] ||
		fail "no annotation at the line: $stderr"
}

@test "--roundtrip: a downgrade that forgets a column, an index and a table is found at each one's line on both dialects" {
	require_pg
	rev b2 a1 'ALTER TABLE users ADD COLUMN nickname TEXT;
CREATE INDEX users_name ON users (name);
/* a comment */ CREATE TABLE tags (
    id INTEGER PRIMARY KEY
);' 'SELECT 1;'
	d='the downgrade of b2 does not restore the schema'
	same_on_both "$m/versions/b2.sql:5: error: $d: users.nickname: column is not expected
$m/versions/b2.sql:6: error: $d: users: index users_name is not expected
$m/versions/b2.sql:7: error: $d: tags: table is not expected" --roundtrip
	url=$(pg_new_db)
	run --separate-stderr mig-verify -m "$m" -d "$url" --roundtrip --format json
	assert_failure 1
	assert_equal "$(jq -c '[.findings[] | select(.code == "roundtrip") | .line]' <<<"$output")" '[5,6,7]'
	url=$(pg_new_db)
	GITHUB_ACTIONS=true GITHUB_WORKSPACE=$BATS_TEST_TMPDIR GITHUB_STEP_SUMMARY=$BATS_TEST_TMPDIR/summary \
		run --separate-stderr mig-verify -q -m "$m" -d "$url" --roundtrip
	assert_failure 1
	[[ $stderr == *"::error file=migrations/versions/b2.sql,line=6,title=mig roundtrip::$d: users: index users_name is not expected"* ]] ||
		fail "no annotation at the line: $stderr"
}

@test "--roundtrip: a column a later downgrade drops is found where it was made, across a table rename and a column rename" {
	require_pg
	rev b2 a1 'ALTER TABLE users RENAME TO members;
ALTER TABLE members RENAME COLUMN name TO full_name;' 'ALTER TABLE members RENAME COLUMN full_name TO name;
ALTER TABLE members RENAME TO users;'
	rev c3 b2 'CREATE TABLE tags (id INTEGER PRIMARY KEY);' 'DROP TABLE tags;
ALTER TABLE members DROP COLUMN email;
ALTER TABLE members DROP COLUMN full_name;'
	d='the downgrade of c3 does not restore the schema'
	# email kept a1's line through the table's rename; full_name is the
	# rename's (SQLite's recorder does the same)
	same_on_both "$m/versions/b2.sql:6: error: $d: members.full_name: column is missing
$m/versions/a1.sql:5: error: $d: members.email: column is missing" --roundtrip
}

@test "--roundtrip: a table dropped and made again in a later revision is found at the later line" {
	require_pg
	rev b2 a1 'DROP TABLE users;

CREATE TABLE users (
    id BIGINT PRIMARY KEY,
    name TEXT,
    email TEXT
);
CREATE TABLE IF NOT EXISTS users (id INTEGER);' 'SELECT 1;'
	rev c3 b2 'CREATE TABLE tags (id INTEGER PRIMARY KEY);' 'DROP TABLE tags;
ALTER TABLE users DROP COLUMN name;'
	# the IF NOT EXISTS statement (line 12) found what line 7 made
	same_on_both "$m/versions/b2.sql:7: error: the downgrade of c3 does not restore the schema: users.name: column is missing" --roundtrip
}

@test "quoted names with capitals and spaces, comments, statements over several lines, CRLF: the first token's line" {
	require_pg
	rev b2 a1 '-- a comment
/* and a
   block comment */
CREATE
  TABLE "Tag List" (
    "Tag Id" INTEGER PRIMARY KEY
);
CREATE INDEX
    "Tag Idx" ON "Tag List" ("Tag Id");
ALTER TABLE "Tag List"
    ADD COLUMN
    "Label Text" TEXT;' 'DROP TABLE "Tag List";'
	rev c3 b2 'CREATE TABLE tags (id INTEGER PRIMARY KEY);' 'DROP TABLE tags;
DROP INDEX "Tag Idx";
ALTER TABLE "Tag List" DROP COLUMN "Label Text";'
	sed -i 's/$/\r/' "$m/versions/b2.sql" "$m/versions/c3.sql"
	d='the downgrade of c3 does not restore the schema'
	same_on_both "$m/versions/b2.sql:14: error: $d: Tag List.Label Text: column is missing
$m/versions/b2.sql:12: error: $d: Tag List: index Tag Idx is missing" --roundtrip
}

@test "PostgreSQL: a downgrade that changes a column's type is found at the statement that changed it" {
	require_pg
	rev b2 a1 '-- longer names
ALTER TABLE users
    ALTER COLUMN name TYPE VARCHAR(200);
ALTER TABLE users ADD COLUMN IF NOT EXISTS email TEXT;' 'ALTER TABLE users ALTER COLUMN name TYPE VARCHAR(100);'
	# the downgrade's statement (line 11) made the column as it is now
	errors pg --roundtrip
	assert_equal "$status" 1
	assert_equal "$found" "$m/versions/b2.sql:11: error: the downgrade of b2 does not restore the schema: users.name: type is varchar(100), expected text"
	# the type of a column the upgrade changed: at that statement (line 6);
	# the IF NOT EXISTS (line 8) that found email leaves it at a1's line 5
	rev b2 a1 '-- longer names
ALTER TABLE users
    ALTER COLUMN name TYPE VARCHAR(200);
ALTER TABLE users ADD COLUMN IF NOT EXISTS email TEXT;' 'ALTER TABLE users ALTER COLUMN name TYPE TEXT;'
	rev c3 b2 'CREATE TABLE tags (id INTEGER PRIMARY KEY);' 'DROP TABLE tags;
ALTER TABLE users DROP COLUMN email;
ALTER TABLE users DROP COLUMN name;'
	errors pg --roundtrip
	assert_equal "$status" 1
	assert_equal "$found" "$m/versions/b2.sql:6: error: the downgrade of c3 does not restore the schema: users.name: column is missing
$m/versions/a1.sql:5: error: the downgrade of c3 does not restore the schema: users.email: column is missing"
}

@test "PostgreSQL: an unnamed index is found at its statement (the name the server chose); other schemas are not the model's" {
	require_pg
	rev b2 a1 'CREATE INDEX ON users (name);
CREATE SCHEMA other;
CREATE TABLE other.users (id INTEGER, name TEXT);
CREATE INDEX ON other.users (name);
CREATE INDEX ON users (email);
CREATE TABLE public.tags (id INTEGER);' 'DROP TABLE other.users;
DROP SCHEMA other;'
	d='the downgrade of b2 does not restore the schema'
	errors pg --roundtrip
	assert_equal "$status" 1
	assert_equal "$found" "$m/versions/b2.sql:9: error: $d: users: index users_email_idx is not expected
$m/versions/b2.sql:5: error: $d: users: index users_name_idx is not expected
$m/versions/b2.sql:10: error: $d: tags: table is not expected"
}

@test "PostgreSQL: objects made by a DO block or a function are found at the revision's header, never at an older line" {
	require_pg
	# b2 drops a1's users and makes it again where the parser cannot see
	rev b2 a1 'DROP TABLE users;
DO $$ BEGIN
  EXECUTE '"'"'CREATE TABLE users (id BIGINT PRIMARY KEY, name TEXT, email TEXT)'"'"';
END $$;
CREATE FUNCTION make_tags() RETURNS void LANGUAGE plpgsql AS $$
BEGIN EXECUTE '"'"'CREATE TABLE tags (id INTEGER, user_id INTEGER REFERENCES users (id))'"'"'; END $$;
SELECT make_tags();' 'DROP TABLE tags;
DROP FUNCTION make_tags();'
	rev c3 b2 'CREATE TABLE notes (id INTEGER PRIMARY KEY);' 'DROP TABLE notes;
ALTER TABLE users DROP COLUMN email;'
	# b2's round trip passes; c3's downgrade drops a column DO made: b2's header
	errors pg --roundtrip
	assert_equal "$status" 1
	assert_equal "$found" "$m/versions/b2.sql:1: error: the downgrade of c3 does not restore the schema: users.email: column is missing"
	# the fk-type finding about a column a function made: b2's header too
	errors pg
	assert_equal "$status" 1
	assert_equal "$found" "$m/versions/b2.sql:1: error: tags.user_id: type integer, but its foreign key references users.id of type bigint"
}

@test "an index keeps its line when its table is renamed in a later revision, on both dialects" {
	require_pg
	rev b2 a1 'CREATE INDEX users_email ON users (email);' 'DROP INDEX users_email;'
	rev c3 b2 'ALTER TABLE users RENAME TO members;' 'ALTER TABLE members RENAME TO users;'
	rev d4 c3 'CREATE TABLE tags (id INTEGER PRIMARY KEY);' 'DROP TABLE tags;
DROP INDEX users_email;'
	same_on_both "$m/versions/b2.sql:5: error: the downgrade of d4 does not restore the schema: members: index users_email is missing" --roundtrip
}

@test "PostgreSQL --schema: the lines are those of the checked schema's objects, not of same-named tables elsewhere" {
	require_pg
	rev a1 none 'CREATE SCHEMA app;
CREATE TABLE app.users (id INTEGER PRIMARY KEY);
CREATE TABLE users (id INTEGER);' 'DROP TABLE users;
DROP SCHEMA app CASCADE;'
	rev b2 a1 'ALTER TABLE app.users ADD COLUMN name TEXT;
ALTER TABLE users ADD COLUMN name TEXT;' 'SELECT 1;'
	errors pg --roundtrip --schema app
	assert_equal "$status" 1
	assert_equal "$found" "$m/versions/b2.sql:5: error: the downgrade of b2 does not restore the schema: users.name: column is not expected"
	# and without --schema, public's users.name, at line 6
	errors pg --roundtrip
	assert_equal "$status" 1
	assert_equal "$found" "$m/versions/b2.sql:6: error: the downgrade of b2 does not restore the schema: users.name: column is not expected"
}

@test "PostgreSQL: a section too long to parse (data) leaves its objects at the revision's header, not at an older line" {
	require_pg
	local rows
	rows=$(seq 1 12000 | sed 's/.*/(&, '"'"'user number &'"'"', '"'"'someone&@example.com'"'"')/' | paste -sd,)
	((${#rows} > 256 * 1024)) || fail "the section is too short: ${#rows} bytes"
	rev b2 a1 "DROP TABLE users;
CREATE TABLE users (id BIGINT PRIMARY KEY, name TEXT, email TEXT);
INSERT INTO users VALUES $rows;" 'SELECT 1;'
	rev c3 b2 'CREATE TABLE tags (id INTEGER PRIMARY KEY);' 'DROP TABLE tags;
ALTER TABLE users DROP COLUMN email;'
	errors pg --roundtrip
	assert_equal "$status" 1
	assert_equal "$found" "$m/versions/b2.sql:1: error: the downgrade of c3 does not restore the schema: users.email: column is missing"
}

@test "PostgreSQL: a bare name made while a section moved search_path does not take the checked schema's table's line" {
	require_pg
	rev b2 a1 'CREATE SCHEMA other;
SET search_path = other;
CREATE TABLE users (id INTEGER, name TEXT, email TEXT);
SET search_path = public;' 'DROP SCHEMA other CASCADE;'
	rev c3 b2 'CREATE TABLE tags (id INTEGER PRIMARY KEY);' 'DROP TABLE tags;
ALTER TABLE users DROP COLUMN email;'
	# public.users is still a1's (line 5), not other.users at b2's line 7
	errors pg --roundtrip
	assert_equal "$status" 1
	assert_equal "$found" "$m/versions/a1.sql:5: error: the downgrade of c3 does not restore the schema: users.email: column is missing"
}
