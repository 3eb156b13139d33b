#!/usr/bin/env bats
# mig-downgrade on real SQLite files and the sandbox PostgreSQL server.

load test_helper/common

# Down to base, then up again: nothing of Brikk is left in between.
assert_round_trip() {
	local db=$1 url=$2
	mig-upgrade -q -d "$url"
	run --separate-stderr mig-downgrade -d "$url" --to base
	assert_success
	assert_line --partial "reverted b07a366647c3  baseline schema"
	assert_line --partial "database is at base"
	assert_equal "$(count_tables "$db")" 0
	assert_equal "$(version_rows "$db")" ""
	run mig-upgrade -q -d "$url"
	assert_success
	assert_equal "$(count_tables "$db")" 23
	assert_equal "$(version_rows "$db")" "b07a366647c3"
}

@test "mig-downgrade --to base removes every baseline table from SQLite and upgrading again works" {
	db=$BATS_TEST_TMPDIR/rt.db
	assert_round_trip "$db" "$(sqlite_url "$db")"
}

@test "mig-downgrade --to base removes every baseline table from PostgreSQL and upgrading again works" {
	require_pg
	url=$(pg_new_db)
	assert_round_trip "$url" "$url"
}

@test "mig-downgrade --to -1 reverts the newest revision only" {
	db=$BATS_TEST_TMPDIR/minus.db
	mig-upgrade -q -d "$(sqlite_url "$db")" -m "$(fixture badsql)" --to a1a1a1a1a1a1
	cp -r "$(fixture badsql)" "$BATS_TEST_TMPDIR/m"
	sed -i 's/^CREAT TABLE/CREATE TABLE/' "$BATS_TEST_TMPDIR"/m/versions/b2*.sql
	mig-upgrade -q -d "$(sqlite_url "$db")" -m "$BATS_TEST_TMPDIR/m"
	assert_equal "$(version_rows "$db")" "b2b2b2b2b2b2"
	run --separate-stderr mig-downgrade -d "$(sqlite_url "$db")" -m "$BATS_TEST_TMPDIR/m" --to -1
	assert_success
	assert_line --partial "reverted b2b2b2b2b2b2"
	assert_equal "$(version_rows "$db")" "a1a1a1a1a1a1"
}

@test "mig-downgrade --to -5 with one revision applied says so and changes nothing" {
	db=$BATS_TEST_TMPDIR/toofar.db
	mig-upgrade -q -d "$(sqlite_url "$db")"
	run --separate-stderr mig-downgrade -d "$(sqlite_url "$db")" --to -5
	assert_failure 2
	[[ $stderr == *"'-5' goes beyond base"* ]]
	assert_equal "$(count_tables "$db")" 23
}

@test "mig-downgrade without --to prints the usage and exits 2" {
	run --separate-stderr mig-downgrade -d sqlite://
	assert_failure 2
	[[ $stderr == *"--to is required"* ]]
	[[ $stderr == *"usage: mig-downgrade"* ]]
}

@test "mig-downgrade --sql prints the downgrade and changes nothing" {
	db=$BATS_TEST_TMPDIR/sql.db
	mig-upgrade -q -d "$(sqlite_url "$db")"
	run --separate-stderr mig-downgrade --sql -d "$(sqlite_url "$db")" --to base
	assert_success
	assert_line "DROP TABLE agent_services;"
	assert_line "DELETE FROM \"alembic_version\" WHERE version_num = 'b07a366647c3';"
	assert_equal "$(count_tables "$db")" 23
	assert_equal "$(version_rows "$db")" "b07a366647c3"
}
