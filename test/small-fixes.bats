#!/usr/bin/env bats
# Small fixes of issue 22: URLs that read back, libpq keyword strings and
# libpq's environment, and findings from the same audit.

load test_helper/common

setup() {
	m=$BATS_TEST_TMPDIR/migrations
	mkdir -p "$m/versions"
	printf -- '-- revision: aaaa00000001\n-- down_revision: none\n-- message: create a\n\n-- +upgrade\nCREATE TABLE a (id INTEGER PRIMARY KEY);\n\n-- +downgrade\nDROP TABLE a;\n' \
		>"$m/versions/aaaa00000001_first.sql"
}

# the "database:" line of mig-status, the URL as mig prints it
printed_url() {
	mig-status -m "$m" -d "$1" | sed -n 's/^database: *//p'
}

@test "a URL with a unix-socket host prints so that it reads back to the same database" {
	require_pg
	url=$(pg_new_db)
	name=${url##*/}
	socket="postgresql://mig:$MIG_PG_PASSWORD@/$name?host=$MIG_PG_HOST&port=$MIG_PG_PORT"
	printed=$(printed_url "$socket")
	[[ $printed == "postgresql://mig:***@%2F"* ]] || fail "the socket folder is not encoded: $printed"
	# the printed URL, its password put back, names the same database
	back=${printed/'***'/$MIG_PG_PASSWORD}
	run --separate-stderr mig-upgrade -m "$m" -d "$back"
	assert_success
	assert_equal "$(version_rows "$url")" aaaa00000001
	assert_equal "$(printed_url "$back")" "$printed"
}

@test "a libpq keyword connection string is accepted, and its password never printed" {
	require_pg
	url=$(pg_new_db)
	name=${url##*/}
	kw="host=127.0.0.1 port=$MIG_PG_PORT user=mig password='$MIG_PG_PASSWORD' dbname=$name"
	run --separate-stderr mig-upgrade -m "$m" -d "$kw"
	assert_success
	assert_equal "$(version_rows "$url")" aaaa00000001
	[[ $output$stderr != *"$MIG_PG_PASSWORD"* ]] || fail "password printed"
	assert_equal "$(printed_url "$kw")" "postgresql://mig:***@127.0.0.1:$MIG_PG_PORT/$name"
	# a keyword libpq does not know is bad input, in libpq's words
	run --separate-stderr mig-status -m "$m" -d "host=127.0.0.1 colour=blue"
	assert_failure 2
	[[ $stderr == *'invalid connection option "colour"'* ]] || fail "$stderr"
}

@test "-d postgresql:// takes everything else from libpq's PG* environment" {
	require_pg
	url=$(pg_new_db)
	PGHOST=127.0.0.1 PGPORT=$MIG_PG_PORT PGUSER=mig PGPASSWORD=$MIG_PG_PASSWORD PGDATABASE=${url##*/} \
		run --separate-stderr mig-upgrade -m "$m" -d postgresql://
	assert_success
	assert_equal "$(version_rows "$url")" aaaa00000001
	[[ $output$stderr != *"$MIG_PG_PASSWORD"* ]] || fail "password printed"
}
