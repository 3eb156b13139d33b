#!/usr/bin/env bats
# Fleets: one pipeline, many databases.  --label NAME names the database in
# every diagnostic, annotation, summary and JSON document; scripts/fleet.sh
# (the README's fleet recipe) runs a program on many databases at once with
# GNU parallel and sums their JSON documents up in one table.

load test_helper/common

setup() {
	m=$BATS_TEST_TMPDIR/migrations
	mkdir -p "$m/versions"
	printf -- '-- revision: aaaa00000001\n-- down_revision: none\n-- message: create a\n\n-- +upgrade\nCREATE TABLE a (id INTEGER PRIMARY KEY);\n\n-- +downgrade\nDROP TABLE a;\n' \
		>"$m/versions/aaaa00000001_first.sql"
	printf -- '-- revision: bbbb00000002\n-- down_revision: aaaa00000001\n-- message: create b\n\n-- +upgrade\nCREATE TABLE b (id INTEGER PRIMARY KEY);\n\n-- +downgrade\nDROP TABLE b;\n' \
		>"$m/versions/bbbb00000002_second.sql"
}

@test "--label names the database in the error, the annotation, the summary and the JSON document" {
	db=$BATS_TEST_TMPDIR/legacy.db
	sqlite_sql "$db" "CREATE TABLE a (id INTEGER PRIMARY KEY); CREATE TABLE c (x INTEGER)"
	export GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$BATS_TEST_TMPDIR/summary
	run --separate-stderr mig-upgrade -m "$m" -d "$(sqlite_url "$db")" --label shop-eu-2
	assert_failure 4
	[[ $stderr == *$'\n'"mig-upgrade: shop-eu-2: "*"no version"* ]] || fail "the refusal does not name the label: $stderr"
	[[ $stderr == *"::error title=mig safety::shop-eu-2: "* ]] || fail "the annotation does not name it: $stderr"
	grep -qxF '| database | shop\-eu\-2 |' "$GITHUB_STEP_SUMMARY"
	run --separate-stderr mig-upgrade -m "$m" -d "$(sqlite_url "$db")" --label shop-eu-2 --format json
	assert_failure 4
	assert_equal "$(jq -r '[.label, .error.database] | join(" ")' <<<"$output")" "shop-eu-2 shop-eu-2"
	# on success too, the document carries the label
	run --separate-stderr mig-upgrade -m "$m" -d "$(sqlite_url "$BATS_TEST_TMPDIR/new.db")" --label shop-eu-3 --format json
	assert_success
	assert_equal "$(jq -r .label <<<"$output")" shop-eu-3
}

@test "without --label an error about the database names its masked URL" {
	require_pg
	url=$(pg_new_db)
	pg_sql "$url" "CREATE TABLE a (id integer)"
	run --separate-stderr mig-upgrade -m "$m" -d "$url"
	assert_failure 4
	masked=${url/$MIG_PG_PASSWORD/***}
	[[ $stderr == *"mig-upgrade: $masked: "* ]] || fail "no URL in: $stderr"
	[[ $stderr != *"$MIG_PG_PASSWORD"* ]] || fail "password printed"
	run --separate-stderr mig-upgrade -m "$m" -d "$url" --format json
	assert_equal "$(jq -r .error.database <<<"$output")" "$masked"
}

@test "--label refuses an empty name, control characters and mig-new" {
	run --separate-stderr mig-status -d sqlite:// --label ''
	assert_failure 2
	[[ $stderr == *"--label: a name of 1 to 200 characters is needed"* ]]
	run --separate-stderr mig-status -d sqlite:// --label $'a\nb'
	assert_failure 2
	[[ $stderr == *"control characters"* ]]
	run --separate-stderr mig-new -m "$m" --label x "a message"
	assert_failure 2
	[[ $stderr == *"--label"* ]]
}

@test "scripts/fleet.sh: six databases at once, SQLite and PostgreSQL, one failing: a table, its name, its exit status" {
	require_pg
	export GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$BATS_TEST_TMPDIR/summary
	fleet=$BATS_TEST_TMPDIR/fleet.txt
	printf '# label, variable holding the URL\n' >"$fleet"
	for i in 1 2 3; do
		export "LITE_$i=$(sqlite_url "$BATS_TEST_TMPDIR/lite$i.db")"
		echo "lite-$i LITE_$i" >>"$fleet"
		url=$(pg_new_db)
		export "PG_$i=$url"
		echo "pg-$i PG_$i" >>"$fleet"
	done
	# pg-2 holds a table and no version rows: refused (exit 4), unchanged
	pg_sql "$PG_2" "CREATE TABLE a (id integer)"
	run --separate-stderr "$REPO/scripts/fleet.sh" -j 3 "$fleet" -- mig-upgrade -m "$m"
	assert_failure 4
	# the last line says which failed
	assert_equal "${stderr##*$'\n'}" "fleet.sh: 1 of 6 databases failed: pg-2"
	# the failing database's diagnostics carry its tag and name it
	grep -qE "^pg-2"$'\t'"mig-upgrade: pg-2: " <<<"$stderr" || fail "untagged: $stderr"
	# (the runner is told to mask it, and nothing else shows it)
	unmasked=$(grep -v $'\t::add-mask::' <<<"$stderr" || true)
	[[ $unmasked != *"$MIG_PG_PASSWORD"* && $output != *"$MIG_PG_PASSWORD"* ]] || fail "password printed"
	! grep -qF "$MIG_PG_PASSWORD" "$GITHUB_STEP_SUMMARY" || fail "password in the summary"
	# one table row per database, in the fleet file's order
	assert_equal "$(grep -c '^| lite-\|^| pg-' <<<"$output")" 6
	for l in lite-1 pg-1 lite-2 lite-3 pg-3; do
		assert_line "| $l | ok | base | bbbb00000002 | 2 |  |"
	done
	assert_line --regexp '^\| pg-2 \| \*\*failed\*\* \(exit 4\) \|  \|  \| 0 \| .*no version'
	# the databases themselves
	for i in 1 2 3; do
		assert_equal "$(version_rows "$BATS_TEST_TMPDIR/lite$i.db")" bbbb00000002
	done
	assert_equal "$(version_rows "$PG_1")" bbbb00000002
	assert_equal "$(version_rows "$PG_3")" bbbb00000002
	assert_equal "$(version_rows "$PG_2")" ""
	assert_equal "$(pg_tables "$PG_2")" a
	# six summaries, each naming its database, and the fleet's table
	assert_equal "$(grep -c '^### mig-upgrade' "$GITHUB_STEP_SUMMARY")" 6
	for l in lite-1 lite-2 lite-3 pg-1 pg-2 pg-3; do
		grep -qxF "| database | ${l/-/\\-} |" "$GITHUB_STEP_SUMMARY" || fail "no summary for $l"
	done
	grep -q '^### fleet: mig-upgrade' "$GITHUB_STEP_SUMMARY"
	# run again: the rest has nothing to do, and the status is still pg-2's
	run --separate-stderr "$REPO/scripts/fleet.sh" "$fleet" -- mig-upgrade -m "$m"
	assert_failure 4
	assert_line "| lite-1 | ok | bbbb00000002 | bbbb00000002 | 0 |  |"
}

@test "scripts/fleet.sh checks the whole fleet file before it runs anything" {
	fleet=$BATS_TEST_TMPDIR/fleet.txt
	export ONE_URL
	ONE_URL=$(sqlite_url "$BATS_TEST_TMPDIR/one.db")
	printf 'one ONE_URL\ntwo NOT_SET_ANYWHERE\n' >"$fleet"
	run --separate-stderr "$REPO/scripts/fleet.sh" "$fleet" -- mig-upgrade -m "$m"
	assert_failure 2
	[[ $stderr == *"fleet.txt:2: the variable NOT_SET_ANYWHERE is not set"* ]]
	[[ ! -e $BATS_TEST_TMPDIR/one.db ]] || fail "a database was touched"
	printf 'one ONE_URL\none ONE_URL\n' >"$fleet"
	run --separate-stderr "$REPO/scripts/fleet.sh" "$fleet"
	assert_failure 2
	[[ $stderr == *"label 'one' is used twice"* ]]
}
