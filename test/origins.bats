#!/usr/bin/env bats
# Findings about migrated objects point at the migration file and line of
# the statement that made the object (tools/lib/origins.h): the foreign-key
# type finding of mig-verify, in text, in JSON and as an annotation.

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

@test "on PostgreSQL the same migration fails at its file and line, and nothing of it stays" {
	require_pg
	url=$(pg_new_db)
	run --separate-stderr mig-verify -m "$m" -d "$url"
	assert_failure 3
	[[ $stderr == *"b2_posts.sql:7: "*"foreign key constraint"*"cannot be implemented"* ]] || fail "$stderr"
	assert_equal "$(version_rows "$url")" a1
}
