#!/usr/bin/env bats
# Findings about migrated objects point at the migration file and line of
# the statement that made the object (tools/lib/origins.h): the foreign-key
# type finding of mig-verify, the round trip's differences and mig-stamp's
# schema check, in text, in JSON and as an annotation.

load test_helper/common

setup() {
	ws=$BATS_TEST_TMPDIR/ws
	m=$ws/app/migrations
	mkdir -p "$m/versions"
	cat >"$m/versions/a1_users.sql" <<-'SQL'
		-- revision: a1
		-- down_revision: none

		-- +upgrade
		CREATE TABLE users (
		    id VARCHAR(36) PRIMARY KEY,
		    name TEXT
		);

		-- +downgrade
		DROP TABLE users;
	SQL
	cat >"$m/versions/b2_posts.sql" <<-'SQL'
		-- revision: b2
		-- down_revision: a1

		-- +upgrade
		CREATE TABLE posts (id INTEGER PRIMARY KEY);
		CREATE INDEX posts_id ON posts (id);
		ALTER TABLE posts ADD COLUMN author_id INTEGER REFERENCES users (id);

		-- +downgrade
		DROP TABLE posts;
	SQL
}

msg='posts.author_id: type integer, but its foreign key references users.id of type varchar(36)'

@test "the foreign-key type finding names the file and line that added the column: text, JSON, annotation" {
	cd "$ws/app"
	run --separate-stderr mig-verify -m migrations
	assert_failure 1
	assert_line "migrations/versions/b2_posts.sql:7: error: $msg"
	run --separate-stderr mig-verify -m migrations --format json
	assert_failure 1
	assert_equal "$(jq -c '.findings[] | select(.code == "fk-type") | [.file, .line]' <<<"$output")" \
		'["migrations/versions/b2_posts.sql",7]'
	GITHUB_ACTIONS=true GITHUB_WORKSPACE=$ws GITHUB_STEP_SUMMARY=$BATS_TEST_TMPDIR/summary \
		run --separate-stderr mig-verify -q -m migrations
	assert_failure 1
	[[ $stderr == *"::error file=app/migrations/versions/b2_posts.sql,line=7,title=mig fk-type::$msg"* ]] ||
		fail "no annotation at the line: $stderr"
	grep -qF 'app/migrations/versions/b2\_posts\.sql:7' "$BATS_TEST_TMPDIR/summary"
}

@test "a table rebuilt the SQLite way (create, copy, drop, rename) points at the rebuild's CREATE" {
	cat >"$m/versions/c3_rebuild.sql" <<-'SQL'
		-- revision: c3
		-- down_revision: b2

		-- +upgrade
		CREATE TABLE comments (id INTEGER PRIMARY KEY, body TEXT);
		CREATE TABLE posts_new (
		    id INTEGER PRIMARY KEY,
		    author_id INTEGER REFERENCES users (id),
		    title TEXT
		);
		INSERT INTO posts_new (id, author_id) SELECT id, author_id FROM posts;
		DROP TABLE posts;
		ALTER TABLE posts_new RENAME TO posts;

		-- +downgrade
		DROP TABLE comments;
	SQL
	run --separate-stderr mig-verify -m "$m"
	assert_failure 1
	assert_line "$m/versions/c3_rebuild.sql:6: error: $msg"
	# a column of a table that is only renamed keeps its first place
	sed -i 's/^ALTER TABLE posts ADD COLUMN author_id INTEGER REFERENCES users (id);$/CREATE TABLE old_posts (author_id INTEGER REFERENCES users (id));\nALTER TABLE old_posts RENAME TO older_posts;/' \
		"$m/versions/b2_posts.sql"
	rm "$m/versions/c3_rebuild.sql"
	run --separate-stderr mig-verify -m "$m"
	assert_failure 1
	assert_line "$m/versions/b2_posts.sql:7: error: older_posts.author_id: type integer, but its foreign key references users.id of type varchar(36)"
}

# Only what a statement names is read again (tools/lib/sqlite_origins.h):
# these try the names SQLite matches without regard to ASCII case, and a
# rollback that takes back a table no statement names afterwards.
@test "names written in another case than they were made are followed: the column is at its ADD COLUMN's line" {
	cat >"$m/versions/b2_posts.sql" <<-'SQL'
		-- revision: b2
		-- down_revision: a1

		-- +upgrade
		CREATE TABLE Posts (id INTEGER PRIMARY KEY);
		CREATE INDEX posts_id ON POSTS (id);
		DROP INDEX POSTS_ID;
		ALTER TABLE POSTS ADD COLUMN author_id INTEGER REFERENCES users (id);

		-- +downgrade
		DROP TABLE posts;
	SQL
	run --separate-stderr mig-verify -m "$m"
	assert_failure 1
	assert_line "$m/versions/b2_posts.sql:8: error: Posts.author_id: type integer, but its foreign key references users.id of type varchar(36)"
}

@test "a table rolled back to a savepoint does not hide a later rebuild: the finding is at the rebuild's CREATE" {
	cat >"$m/versions/c3_rebuild.sql" <<-'SQL'
		-- revision: c3
		-- down_revision: b2

		-- +upgrade
		SAVEPOINT scratch;
		CREATE TABLE scratch_table (id INTEGER);
		ROLLBACK TO scratch;
		RELEASE scratch;
		CREATE TABLE posts_new (
		    id INTEGER PRIMARY KEY,
		    author_id INTEGER REFERENCES users (id)
		);
		INSERT INTO posts_new (id, author_id) SELECT id, author_id FROM posts;
		DROP TABLE posts;
		ALTER TABLE posts_new RENAME TO posts;

		-- +downgrade
		SELECT 1;
	SQL
	run --separate-stderr mig-verify -m "$m"
	assert_failure 1
	assert_line "$m/versions/c3_rebuild.sql:9: error: $msg"
	refute_output --partial scratch_table
}

@test "a temporary table that shadows a table's name does not hide the column added to the real one" {
	cat >"$m/versions/b2_posts.sql" <<-'SQL'
		-- revision: b2
		-- down_revision: a1

		-- +upgrade
		CREATE TABLE posts (id INTEGER PRIMARY KEY);
		CREATE TEMP TABLE posts (scratch INTEGER);
		ALTER TABLE main.posts ADD COLUMN author_id INTEGER REFERENCES users (id);
		DROP TABLE temp.posts;

		-- +downgrade
		DROP TABLE posts;
	SQL
	run --separate-stderr mig-verify -m "$m"
	assert_failure 1
	assert_line "$m/versions/b2_posts.sql:7: error: $msg"
}

@test "on PostgreSQL the same migration fails at its file and line, and nothing of it stays" {
	require_pg
	url=$(pg_new_db)
	run --separate-stderr mig-verify -m "$m" -d "$url"
	assert_failure 3
	[[ $stderr == *"b2_posts.sql:7: "*"foreign key constraint"*"cannot be implemented"* ]] || fail "$stderr"
	assert_equal "$(version_rows "$url")" a1
}

# a1 with a column added by its own statement, and the database that lacks it
stamp_setup() {
	sed -i '8a ALTER TABLE users ADD COLUMN email TEXT;' "$m/versions/a1_users.sql"
	sed -n 9p "$m/versions/a1_users.sql" | grep -qF 'ADD COLUMN email' || fail "fixture moved"
}

# stamp_refused URL: mig-stamp a1 refuses, naming a1's line 9, in text,
# JSON and as an annotation; nothing is stamped
stamp_refused() {
	local url=$1 want='users.email: column is missing'
	cd "$ws/app"
	run --separate-stderr mig-stamp a1 -d "$url" -m migrations
	assert_failure 4
	assert_line "migrations/versions/a1_users.sql:9: error: $want"
	run --separate-stderr mig-stamp a1 -d "$url" -m migrations --format json
	assert_failure 4
	assert_equal "$(jq -c '.findings[] | select(.code == "missing-column") | [.file, .line, .message]' <<<"$output")" \
		"[\"migrations/versions/a1_users.sql\",9,\"$want\"]"
	GITHUB_ACTIONS=true GITHUB_WORKSPACE=$ws GITHUB_STEP_SUMMARY=$BATS_TEST_TMPDIR/summary \
		run --separate-stderr mig-stamp -q a1 -d "$url" -m migrations
	assert_failure 4
	[[ $stderr == *"::error file=app/migrations/versions/a1_users.sql,line=9,title=mig missing-column::$want"* ]] ||
		fail "no annotation at the line: $stderr"
	assert_equal "$(version_rows "$url")" ""
}

@test "mig-stamp on SQLite: a column the migrations add but the database lacks is found at the migration's line" {
	stamp_setup
	db=$BATS_TEST_TMPDIR/live.db
	sqlite_sql "$db" "CREATE TABLE users (id VARCHAR(36) PRIMARY KEY, name TEXT)"
	stamp_refused "$(sqlite_url "$db")"
}

@test "mig-stamp on PostgreSQL: the same finding, at the same line (the replay is SQLite's)" {
	require_pg
	stamp_setup
	url=$(pg_new_db)
	pg_sql "$url" "CREATE TABLE users (id VARCHAR(36) PRIMARY KEY, name TEXT)" >/dev/null
	stamp_refused "$url"
}

@test "a --roundtrip finding names the line that made the object, not the revision's header" {
	cat >"$m/versions/c3_index.sql" <<-'SQL'
		-- revision: c3
		-- down_revision: b2

		-- +upgrade
		CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT);
		CREATE INDEX users_name ON users (name);

		-- +downgrade
		DROP TABLE tags;
	SQL
	# without the fk-type error of b2, so that the round trip is the finding
	sed -i 's/author_id INTEGER REFERENCES/author_id VARCHAR(36) REFERENCES/' "$m/versions/b2_posts.sql"
	want='the downgrade of c3 does not restore the schema: users: index users_name is not expected'
	cd "$ws/app"
	run --separate-stderr mig-verify -m migrations --roundtrip
	assert_failure 1
	assert_line "migrations/versions/c3_index.sql:6: error: $want"
	run --separate-stderr mig-verify -m migrations --roundtrip --format json
	assert_failure 1
	assert_equal "$(jq -c '.findings[] | select(.code == "roundtrip") | [.file, .line, .message]' <<<"$output")" \
		"[\"migrations/versions/c3_index.sql\",6,\"$want\"]"
	GITHUB_ACTIONS=true GITHUB_WORKSPACE=$ws GITHUB_STEP_SUMMARY=$BATS_TEST_TMPDIR/summary \
		run --separate-stderr mig-verify -q -m migrations --roundtrip
	assert_failure 1
	[[ $stderr == *"::error file=app/migrations/versions/c3_index.sql,line=6,title=mig roundtrip::$want"* ]] ||
		fail "no annotation at the line: $stderr"
}

@test "a column a downgrade drops though its upgrade did not add it is found where it was made" {
	# the downgrade drops a column of a1 that b2 did not add: the column
	# is missing afterwards, and a1 made it in the CREATE TABLE at line 5
	cat >"$m/versions/b2_posts.sql" <<-'SQL'
		-- revision: b2
		-- down_revision: a1

		-- +upgrade
		CREATE TABLE posts (id INTEGER PRIMARY KEY);

		-- +downgrade
		DROP TABLE posts;
		ALTER TABLE users DROP COLUMN name;
	SQL
	run --separate-stderr mig-verify -m "$m" --roundtrip
	assert_failure 1
	assert_line "$m/versions/a1_users.sql:5: error: the downgrade of b2 does not restore the schema: users.name: column is missing"
}
