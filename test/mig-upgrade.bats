#!/usr/bin/env bats
# mig-upgrade on real SQLite files and the sandbox PostgreSQL server.

load test_helper/common

# column_type DB TABLE COLUMN: the declared type, as each database reports it.
column_type() {
	if _mig_is_pg "$1"; then
		pg_sql "$1" "SELECT data_type || '(' || character_maximum_length || ')'
			FROM information_schema.columns
			WHERE table_name = '$2' AND column_name = '$3'"
	else
		sqlite_sql "$1" "SELECT type FROM pragma_table_info('$2') WHERE name = '$3'"
	fi
}

# A fresh database ends with exactly the baseline and its version row.
assert_fresh_upgrade() {
	local db=$1 url=$2
	run --separate-stderr mig-upgrade -d "$url"
	assert_success
	assert_line --index 0 "upgrading from base: 1 migration"
	assert_line --partial "applied b07a366647c3  baseline schema"
	assert_line --partial "database is at b07a366647c3"
	# stderr holds the progress lines (progress.bats), nothing else
	assert_equal "$(sed -n 1p <<<"$stderr")" "applying 1/1 b07a366647c3 baseline schema …"
	[[ $(sed -n 2p <<<"$stderr") == "applied 1/1 b07a366647c3 in "* ]] || fail "$stderr"
	assert_equal "$(grep -c '' <<<"$stderr")" 2
	assert_equal "$(count_tables "$db")" 23
	assert_equal "$(version_rows "$db")" "b07a366647c3"
}

@test "mig-upgrade creates the 23 baseline tables and the version row on a fresh SQLite file" {
	db=$BATS_TEST_TMPDIR/fresh.db
	assert_fresh_upgrade "$db" "$(sqlite_url "$db")"
	assert_equal "$(column_type "$db" agent_services agent_id)" "VARCHAR(36)"
}

@test "mig-upgrade creates the 23 baseline tables and the version row on an empty PostgreSQL database" {
	require_pg
	url=$(pg_new_db)
	assert_fresh_upgrade "$url" "$url"
	assert_equal "$(column_type "$url" agent_services agent_id)" "character varying(36)"
}

@test "mig-upgrade reads the database from DATABASE_URL when -d is not given" {
	db=$BATS_TEST_TMPDIR/env.db
	DATABASE_URL=$(sqlite_url "$db") run --separate-stderr mig-upgrade -q
	assert_success
	assert_output ""
	assert_equal "$(version_rows "$db")" "b07a366647c3"
}

@test "mig-upgrade without any database says how to give one and exits 2" {
	unset DATABASE_URL
	run --separate-stderr mig-upgrade
	assert_failure 2
	assert_output ""
	[[ $stderr == *"no database given"* ]]
	[[ $stderr == *"DATABASE_URL"* ]]
}

@test "mig-upgrade run twice does nothing the second time" {
	db=$BATS_TEST_TMPDIR/twice.db
	mig-upgrade -q -d "$(sqlite_url "$db")"
	run --separate-stderr mig-upgrade -d "$(sqlite_url "$db")"
	assert_success
	assert_output "nothing to do: database is at b07a366647c3"
	assert_equal "$(version_rows "$db")" "b07a366647c3"
}

@test "mig-upgrade --format json reports what it applied as one document" {
	db=$BATS_TEST_TMPDIR/json.db
	run --separate-stderr mig-upgrade --format json -d "$(sqlite_url "$db")"
	assert_success
	run jq -r '[(.from | length), .to[0], .applied[0].revision] | @tsv' <<<"$output"
	assert_output "$(printf '0\tb07a366647c3\tb07a366647c3')"
}

# A failing second migration: the first stays, the second is rolled back whole.
assert_failed_second() {
	local db=$1 url=$2 fixture=$3 line=$4
	run --separate-stderr mig-upgrade -d "$url" -m "$(fixture "$fixture")"
	assert_failure 3
	assert_line --partial "applied a1a1a1a1a1a1"
	refute_line --partial "applied b2b2b2b2b2b2"
	[[ $stderr == *"versions/b2b2b2b2b2b2_second.sql:$line: "* ]]
	[[ $stderr == *"rolled back; the database is still at a1a1a1a1a1a1"* ]]
	assert_equal "$(version_rows "$db")" "a1a1a1a1a1a1"
	assert_equal "$(count_tables "$db")" 1
}

@test "a syntax error in the second migration leaves SQLite at the first, naming file and line" {
	db=$BATS_TEST_TMPDIR/bad.db
	assert_failed_second "$db" "$(sqlite_url "$db")" badsql 9
	[[ $stderr == *'near "CREAT": syntax error'* ]]
}

@test "a syntax error in the second migration leaves PostgreSQL at the first, naming file and line" {
	require_pg
	url=$(pg_new_db)
	assert_failed_second "$url" "$url" badsql 9
	[[ $stderr == *'syntax error at or near "CREAT"'* ]]
}

@test "a statement failing at run time is reported at its own line on SQLite" {
	db=$BATS_TEST_TMPDIR/runtime.db
	assert_failed_second "$db" "$(sqlite_url "$db")" badsql_runtime 10
	[[ $stderr == *"first_table already exists"* ]]
}

@test "a statement failing at run time is reported at its own line on PostgreSQL" {
	require_pg
	url=$(pg_new_db)
	assert_failed_second "$url" "$url" badsql_runtime 10
	[[ $stderr == *'relation "first_table" already exists'* ]]
}

# Legacy: the baseline's tables exist but no version table does.
assert_legacy_refused() {
	local db=$1 url=$2 before
	make_legacy_db "$db"
	before=$(db_fingerprint "$db")
	run --separate-stderr mig-upgrade -d "$url"
	assert_failure 4
	assert_output ""
	[[ $stderr == *"legacy database"* ]]
	[[ $stderr == *"mig-stamp b07a366647c3"* ]]
	assert_equal "$(db_fingerprint "$db")" "$before"
	assert_equal "$(version_rows "$db")" ""
}

@test "mig-upgrade refuses a legacy SQLite database and changes nothing" {
	db=$BATS_TEST_TMPDIR/legacy.db
	assert_legacy_refused "$db" "$(sqlite_url "$db")"
}

@test "mig-upgrade refuses a legacy PostgreSQL database and changes nothing" {
	require_pg
	url=$(pg_new_db)
	assert_legacy_refused "$url" "$url"
}

# Unknown: the database records a revision that no file declares.
assert_unknown_refused() {
	local db=$1 url=$2 before
	mig-upgrade -q -d "$url"
	if _mig_is_pg "$db"; then
		pg_sql "$db" "UPDATE alembic_version SET version_num = 'deadbeef0000'"
	else
		sqlite_sql "$db" "UPDATE alembic_version SET version_num = 'deadbeef0000'"
	fi
	before=$(db_fingerprint "$db")
	run --separate-stderr mig-upgrade -d "$url"
	assert_failure 4
	assert_output ""
	[[ $stderr == *"'deadbeef0000', which is not in migrations/versions"* ]]
	[[ $stderr == *"mig-stamp --force"* ]]
	assert_equal "$(db_fingerprint "$db")" "$before"
}

@test "mig-upgrade refuses a SQLite database at a revision the folder does not have" {
	db=$BATS_TEST_TMPDIR/unknown.db
	assert_unknown_refused "$db" "$(sqlite_url "$db")"
}

@test "mig-upgrade refuses a PostgreSQL database at a revision the folder does not have" {
	require_pg
	url=$(pg_new_db)
	assert_unknown_refused "$url" "$url"
}

@test "mig-upgrade --sql prints the DDL with the version-table statements and touches nothing" {
	require_pg
	url=$(pg_new_db)
	run --separate-stderr mig-upgrade --sql -d "$url"
	assert_success
	assert_line --index 0 "CREATE TABLE alembic_version ("
	assert_line "CREATE TABLE agent_services ("
	assert_line "INSERT INTO \"alembic_version\" (version_num) VALUES ('b07a366647c3');"
	assert_line "COMMIT;"
	assert_equal "$(count_tables "$url")" 0
	assert_equal "$(pg_tables "$url")" ""
}

@test "mig-upgrade --sql output builds the same schema when fed to the database" {
	db=$BATS_TEST_TMPDIR/viasql.db
	mig-upgrade --sql -d sqlite:// >"$BATS_TEST_TMPDIR/up.sql"
	sqlite3 -bail "$db" <"$BATS_TEST_TMPDIR/up.sql"
	assert_equal "$(count_tables "$db")" 23
	assert_equal "$(version_rows "$db")" "b07a366647c3"
}

@test "mig-upgrade --to stops at the named revision" {
	db=$BATS_TEST_TMPDIR/partial.db
	run mig-upgrade -d "$(sqlite_url "$db")" -m "$(fixture badsql)" --to a1a1
	assert_success
	assert_equal "$(version_rows "$db")" "a1a1a1a1a1a1"
}

@test "mig-upgrade --to names an unknown revision: exit 2, nothing created" {
	db=$BATS_TEST_TMPDIR/none.db
	run --separate-stderr mig-upgrade -d "$(sqlite_url "$db")" --to ffff
	assert_failure 2
	[[ $stderr == *"'ffff' is not a revision in migrations/versions"* ]]
	assert_equal "$(count_tables "$db")" 0
}

@test "mig-upgrade never prints the password of a PostgreSQL URL, even when it is wrong" {
	require_pg
	url=$(pg_new_db)
	bad=${url/$MIG_PG_PASSWORD/Sup3r-Secret-pw}
	run --separate-stderr mig-upgrade -d "$bad"
	assert_failure 3
	[[ $stderr == *"cannot connect to postgresql://mig:***@127.0.0.1"* ]]
	[[ $stderr != *Sup3r-Secret-pw* ]]
	[[ $output != *Sup3r-Secret-pw* ]]
	run --separate-stderr mig-upgrade --format json -d "$url"
	assert_success
	[[ $output == *'"database":"postgresql://mig:***@127.0.0.1'* ]]
	[[ $output != *"$MIG_PG_PASSWORD"* ]]
}

@test "mig-upgrade against a server that is not there fails with exit 3" {
	run --separate-stderr mig-upgrade -d "postgresql://mig:pw@127.0.0.1:1/nothing"
	assert_failure 3
	[[ $stderr == *"cannot connect to postgresql://mig:***@127.0.0.1:1/nothing"* ]]
}

@test "mig-upgrade accepts SQLAlchemy's postgresql+psycopg2 URLs" {
	require_pg
	url=$(pg_new_db)
	run mig-upgrade -q -d "${url/postgresql:/postgresql+psycopg2:}"
	assert_success
	assert_equal "$(version_rows "$url")" "b07a366647c3"
}

@test "mig-upgrade rejects a URL of another database kind with exit 2" {
	run --separate-stderr mig-upgrade -d "mysql://root@localhost/app"
	assert_failure 2
	[[ $stderr == *"unsupported database URL scheme 'mysql'"* ]]
}
