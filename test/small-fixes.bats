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

@test "a -- +downgrade section of comments only (an unfilled mig-new scaffold) gets a warning at its line" {
	mig-new -q -m "$m" "add b"
	f=$(ls "$m"/versions/*_add_b.sql)
	# the scaffold untouched (a merge, say) undoes nothing, rightly
	run --separate-stderr mig-verify -m "$m" --format json
	assert_equal "$(jq '[.findings[] | select(.code == "empty-downgrade")] | length' <<<"$output")" 0
	# its upgrade filled in, its downgrade not
	sed -i '/^-- +downgrade/i CREATE TABLE b (id INTEGER PRIMARY KEY);' "$f"
	mig-verify -q -m "$m" --update-sum	# a migration still being written
	run --separate-stderr mig-verify -m "$m"
	assert_success
	line=$(grep -n '^-- +downgrade' "$f" | cut -d: -f1)
	assert_line --regexp "^$f:$((line + 1)): warning: revision '[0-9a-f]{12}': its -- \\+downgrade section holds only comments, so a downgrade through it changes nothing$"
	run --separate-stderr mig-verify -m "$m" --format json
	assert_equal "$(jq -r '[.findings[] | select(.code == "empty-downgrade") | .severity] | join(",")' <<<"$output")" warning
	# a filled one, or none at all (its own warning), is not this
	printf 'DROP TABLE b;\n' >>"$f"
	mig-verify -q -m "$m" --update-sum
	run --separate-stderr mig-verify -m "$m" --format json
	assert_equal "$(jq '[.findings[] | select(.code == "empty-downgrade")] | length' <<<"$output")" 0
}

# roundtrip_failure [URL]: a downgrade whose SQL fails, then one that leaves
# behind an object the schema model does not hold (a view, a sequence), so
# that the second upgrade fails: findings (exit 1) saying they came from
# the round trip, at the failing statement.
roundtrip_failure() {
	local d=() left="CREATE VIEW va AS SELECT id FROM a;"
	if [[ -n ${1:-} ]]; then
		d=(-d "$1")
		left="CREATE SEQUENCE sb;"
	fi
	printf -- '-- revision: bbbb00000002\n-- down_revision: aaaa00000001\n\n-- +upgrade\nCREATE TABLE b (id INTEGER PRIMARY KEY);\n\n-- +downgrade\nDROP TABLE no_such_table;\n' \
		>"$m/versions/bbbb00000002_b.sql"
	run --separate-stderr mig-verify -m "$m" --roundtrip "${d[@]}"
	assert_failure 1
	assert_line --regexp "^$m/versions/bbbb00000002_b.sql:8: error: the round trip failed at the downgrade of bbbb00000002: .*no_such_table"
	if [[ -n ${1:-} ]]; then
		pg_sql "$1" "DROP TABLE a, b, alembic_version, mig_history" >/dev/null
	fi
	printf -- '-- revision: bbbb00000002\n-- down_revision: aaaa00000001\n\n-- +upgrade\nCREATE TABLE b (id INTEGER PRIMARY KEY);\n%s\n\n-- +downgrade\nDROP TABLE b;\n' \
		"$left" >"$m/versions/bbbb00000002_b.sql"
	run --separate-stderr mig-verify -m "$m" --roundtrip "${d[@]}" --format json
	assert_failure 1
	assert_equal "$(jq -r '.error' <<<"$output")" null
	finding=$(jq -r '.findings[] | select(.code == "roundtrip") | "\(.line) \(.message)"' <<<"$output")
	[[ $finding == "6 the round trip failed upgrading bbbb00000002 again after its downgrade: "*"already exists"* ]] ||
		fail "$finding"
}

@test "a round trip that fails is a finding (exit 1) that says it came from the round trip (SQLite)" {
	roundtrip_failure
}

@test "a round trip that fails is a finding (exit 1) that says it came from the round trip (PostgreSQL)" {
	require_pg
	roundtrip_failure "$(pg_new_db)"
}

@test "-v on a graph with two heads says 'warning', not 'error', when the run goes on and exits 0" {
	printf -- '-- revision: cccc00000003\n-- down_revision: aaaa00000001\n\n-- +upgrade\nCREATE TABLE c (id INTEGER);\n\n-- +downgrade\nDROP TABLE c;\n' \
		>"$m/versions/cccc00000003_c.sql"
	printf -- '-- revision: bbbb00000002\n-- down_revision: aaaa00000001\n\n-- +upgrade\nCREATE TABLE b (id INTEGER);\n\n-- +downgrade\nDROP TABLE b;\n' \
		>"$m/versions/bbbb00000002_b.sql"
	db=$BATS_TEST_TMPDIR/two.db
	run --separate-stderr mig-upgrade -v -m "$m" -d "$(sqlite_url "$db")" --to heads
	assert_success
	[[ $stderr == *"warning: 2 heads: bbbb00000002, cccc00000003"* ]] || fail "$stderr"
	[[ $stderr != *"error"* ]] || fail "an error on a run that succeeded: $stderr"
	assert_equal "$(version_rows "$db")" "bbbb00000002 cccc00000003"
	# mig-verify, a lint, still calls it an error
	run --separate-stderr mig-verify -m "$m"
	assert_failure 1
	assert_line --partial "error: 2 heads"
}

@test "mig-verify's list of the tables of a non-empty database never cuts a name" {
	db=$BATS_TEST_TMPDIR/full.db
	for i in $(seq 1 30); do
		sqlite_sql "$db" "CREATE TABLE table_with_a_rather_long_name_$i (id INTEGER)"
	done
	run --separate-stderr mig-verify -m "$m" -d "$(sqlite_url "$db")"
	assert_failure 4
	list=$(sed -n 's/.*(30 tables: \(.*\)); mig-verify only works.*/\1/p' <<<"$stderr")
	[[ $list =~ " and "([0-9]+)" more"$ ]] || fail "no count of the rest: $stderr"
	more=${BASH_REMATCH[1]}
	shown=${list% and * more}
	IFS=, read -ra names <<<"${shown//, /,}"
	assert_equal $((${#names[@]} + more)) 30
	for n in "${names[@]}"; do
		[[ $n =~ ^table_with_a_rather_long_name_[0-9]+$ ]] || fail "a cut name: '$n'"
		sqlite_sql "$db" "SELECT 1 FROM $n" >/dev/null || fail "not a table: $n"
	done
}

@test "--dump is the same on both dialects for expression indexes and SERIAL / AUTOINCREMENT keys" {
	require_pg
	cat >"$m/versions/bbbb00000002_keys.sql" <<-'SQL'
		-- revision: bbbb00000002
		-- down_revision: aaaa00000001

		-- +upgrade postgresql
		CREATE TABLE t (id SERIAL PRIMARY KEY, name VARCHAR(20), email TEXT);
		-- +upgrade sqlite
		CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, name VARCHAR(20), email TEXT);
		-- +upgrade
		CREATE INDEX ix_t_lower ON t (LOWER( name ));
		CREATE UNIQUE INDEX ix_t_expr ON t (lower(email) DESC, (id + 1));
		CREATE INDEX ix_t_plain ON t (name, email);

		-- +downgrade
		DROP TABLE t;
	SQL
	url=$(pg_new_db)
	db=$BATS_TEST_TMPDIR/keys.db
	mig-upgrade -q -m "$m" -d "$url"
	mig-upgrade -q -m "$m" -d "$(sqlite_url "$db")"
	mig-check-schema --dump -d "$url" >"$BATS_TEST_TMPDIR/pg.yaml"
	mig-check-schema --dump -d "$(sqlite_url "$db")" >"$BATS_TEST_TMPDIR/sqlite.yaml"
	diff -u "$BATS_TEST_TMPDIR/pg.yaml" "$BATS_TEST_TMPDIR/sqlite.yaml"
	grep -qxF '      ix_t_expr: {columns: [lower(email), (id+1)], unique: true}' "$BATS_TEST_TMPDIR/pg.yaml"
	grep -qxF '      ix_t_lower: {columns: [lower(name)]}' "$BATS_TEST_TMPDIR/pg.yaml"
	grep -qxF '      id: {type: integer, nullable: false}' "$BATS_TEST_TMPDIR/pg.yaml"
	# each dump is a strict spec the other database meets
	run --separate-stderr mig-check-schema --strict --spec "$BATS_TEST_TMPDIR/pg.yaml" -d "$(sqlite_url "$db")"
	assert_success
	run --separate-stderr mig-check-schema --strict --spec "$BATS_TEST_TMPDIR/sqlite.yaml" -d "$url"
	assert_success
	# a default from a sequence the column does not own is still a default
	pg_sql "$url" "CREATE SEQUENCE other; ALTER TABLE t ADD COLUMN n integer DEFAULT nextval('other')"
	mig-check-schema --dump -d "$url" | grep -qF "n: {type: integer, nullable: true, default: 'nextval(''other''::regclass)'}"
}
