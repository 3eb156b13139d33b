#!/usr/bin/env bats
# GitHub Actions step summaries and step outputs: mig-upgrade and
# mig-downgrade write a table of the steps (revision, message, statements,
# ms, result) and, on failure, the failed step with its file:line, its
# statement and the message; outputs from, to, applied_count and
# pending_count.  A failed connection and a refused stamp write one too.
# Text from the database or the files is escaped in the Markdown.

load test_helper/common

setup() {
	ws=$BATS_TEST_TMPDIR/ws
	m=$ws/db/migrations
	mkdir -p "$m/versions"
	export GITHUB_ACTIONS=true GITHUB_WORKSPACE=$ws
	export GITHUB_STEP_SUMMARY=$BATS_TEST_TMPDIR/summary GITHUB_OUTPUT=$BATS_TEST_TMPDIR/output
	# two statements, then one, then a broken third migration (line 7)
	printf -- '-- revision: aaaa00000001\n-- down_revision: none\n-- message: create a and a2\n\n-- +upgrade\nCREATE TABLE a (id INTEGER PRIMARY KEY);\nCREATE TABLE a2 (id INTEGER PRIMARY KEY);\n\n-- +downgrade\nDROP TABLE a2;\nDROP TABLE a;\n' \
		>"$m/versions/aaaa00000001_first.sql"
	printf -- '-- revision: bbbb00000002\n-- down_revision: aaaa00000001\n-- message: create b\n\n-- +upgrade\nCREATE TABLE b (id INTEGER PRIMARY KEY);\n\n-- +downgrade\nDROP TABLE b;\n' \
		>"$m/versions/bbbb00000002_second.sql"
}

broken_third() {
	printf -- '-- revision: cccc00000003\n-- down_revision: bbbb00000002\n-- message: broken | <b>bold</b>\n\n-- +upgrade\nCREATE TABLE c (id INTEGER PRIMARY KEY);\nCREAT TABLE d (id INTEGER,\n  name TEXT);\n\n-- +downgrade\nDROP TABLE c;\n' \
		>"$m/versions/cccc00000003_broken.sql"
	printf -- '-- revision: dddd00000004\n-- down_revision: cccc00000003\n-- message: never reached\n\n-- +upgrade\nCREATE TABLE e (id INTEGER PRIMARY KEY);\n\n-- +downgrade\nDROP TABLE e;\n' \
		>"$m/versions/dddd00000004_after.sql"
}

output_of() {
	grep "^$1=" "$GITHUB_OUTPUT" | tail -1 | cut -d= -f2-
}

upgrade_success() {
	local url=$1
	run --separate-stderr mig-upgrade -d "$url" -m "$m"
	assert_success
	grep -qx '### mig-upgrade: 2 migrations applied' "$GITHUB_STEP_SUMMARY"
	grep -qx '| revision | message | statements | ms | result |' "$GITHUB_STEP_SUMMARY"
	grep -qE '^\| aaaa00000001 \| create a and a2 \| 2 \| [0-9.]+ \| applied \|$' "$GITHUB_STEP_SUMMARY"
	grep -qE '^\| bbbb00000002 \| create b \| 1 \| [0-9.]+ \| applied \|$' "$GITHUB_STEP_SUMMARY"
	assert_equal "$(output_of from)" base
	assert_equal "$(output_of to)" bbbb00000002
	assert_equal "$(output_of applied_count)" 2
	assert_equal "$(output_of pending_count)" 0
	# nothing to do: a summary that says so, and zero applied
	: >"$GITHUB_STEP_SUMMARY" && : >"$GITHUB_OUTPUT"
	run --separate-stderr mig-upgrade -d "$url" -m "$m"
	assert_success
	grep -qx '### mig-upgrade: nothing to upgrade' "$GITHUB_STEP_SUMMARY"
	assert_equal "$(output_of from)" bbbb00000002
	assert_equal "$(output_of applied_count)" 0
}

@test "mig-upgrade writes the step table and the outputs from, to, applied_count, pending_count (SQLite)" {
	upgrade_success "$(sqlite_url "$BATS_TEST_TMPDIR/ok.db")"
}

@test "mig-upgrade writes the step table and the outputs from, to, applied_count, pending_count (PostgreSQL)" {
	require_pg
	upgrade_success "$(pg_new_db)"
}

upgrade_failure() {
	local db=$1 url=$2
	broken_third
	mig-upgrade -q -d "$url" -m "$m" --to aaaa00000001
	: >"$GITHUB_STEP_SUMMARY" && : >"$GITHUB_OUTPUT"
	run --separate-stderr mig-upgrade -d "$url" -m "$m"
	assert_failure 3
	# the database: bbbb applied, cccc rolled back, dddd never run
	assert_equal "$(version_rows "$db")" bbbb00000002
	local s
	s=$(cat "$GITHUB_STEP_SUMMARY")
	grep -qx '### mig-upgrade: failed (database, exit 3)' <<<"$s"
	grep -qE '^\| bbbb00000002 \| create b \| 1 \| [0-9.]+ \| applied \|$' <<<"$s"
	# the message is escaped: no cell break, no HTML
	grep -qxF '| cccc00000003 | broken \| &lt;b&gt;bold&lt;/b&gt; | | | **failed, rolled back** |' <<<"$s"
	grep -qxF '| dddd00000004 | never reached | | | not run |' <<<"$s"
	# where: the path relative to the workspace, and the line of the statement
	grep -qxF '**Failed:** db/migrations/versions/cccc00000003\_broken\.sql:7' <<<"$s"
	# the statement, whole, in a sql block
	assert_equal "$(sed -n '/^```sql$/,/^```$/p' <<<"$s")" \
		"$(printf '```sql\nCREAT TABLE d (id INTEGER,\n  name TEXT);\n```')"
	# the server's message, with the hint
	grep -q 'syntax error' <<<"$s"
	grep -q '^hint: the upgrade of cccc00000003 was rolled back' <<<"$s"
	[[ $s != *"::"* ]] || fail "a workflow command in the summary"
	assert_equal "$(output_of from)" aaaa00000001
	assert_equal "$(output_of to)" bbbb00000002
	assert_equal "$(output_of applied_count)" 1
	assert_equal "$(output_of pending_count)" 2
}

@test "a failed mig-upgrade's summary names the failed step, its file:line and statement, and the steps not run (SQLite)" {
	db=$BATS_TEST_TMPDIR/fail.db
	upgrade_failure "$db" "$(sqlite_url "$db")"
}

@test "a failed mig-upgrade's summary names the failed step, its file:line and statement, and the steps not run (PostgreSQL)" {
	require_pg
	url=$(pg_new_db)
	upgrade_failure "$url" "$url"
}

downgrade_both() {
	local db=$1 url=$2
	mig-upgrade -q -d "$url" -m "$m"
	run --separate-stderr mig-downgrade -d "$url" -m "$m" --to aaaa00000001
	assert_success
	grep -qx '### mig-downgrade: 1 migration reverted' "$GITHUB_STEP_SUMMARY"
	grep -qE '^\| bbbb00000002 \| create b \| 1 \| [0-9.]+ \| reverted \|$' "$GITHUB_STEP_SUMMARY"
	assert_equal "$(output_of from)" bbbb00000002
	assert_equal "$(output_of to)" aaaa00000001
	assert_equal "$(output_of applied_count)" 1
	assert_equal "$(output_of pending_count)" 1
	# a downgrade whose SQL fails: line 11 of the first file
	sed -i 's/^DROP TABLE a;$/DROP TABLE no_such_table;/' "$m/versions/aaaa00000001_first.sql"
	: >"$GITHUB_STEP_SUMMARY" && : >"$GITHUB_OUTPUT"
	run --separate-stderr mig-downgrade -d "$url" -m "$m" --to base
	assert_failure 3
	assert_equal "$(version_rows "$db")" aaaa00000001
	grep -qx '### mig-downgrade: failed (database, exit 3)' "$GITHUB_STEP_SUMMARY"
	grep -qxF '| aaaa00000001 | create a and a2 | | | **failed, rolled back** |' "$GITHUB_STEP_SUMMARY"
	grep -qxF '**Failed:** db/migrations/versions/aaaa00000001\_first\.sql:11' "$GITHUB_STEP_SUMMARY"
	grep -qxF 'DROP TABLE no_such_table;' "$GITHUB_STEP_SUMMARY"
	assert_equal "$(output_of applied_count)" 0
	assert_equal "$(output_of to)" aaaa00000001
}

@test "mig-downgrade writes its summary and outputs on success and on failure (SQLite)" {
	db=$BATS_TEST_TMPDIR/down.db
	downgrade_both "$db" "$(sqlite_url "$db")"
}

@test "mig-downgrade writes its summary and outputs on success and on failure (PostgreSQL)" {
	require_pg
	url=$(pg_new_db)
	downgrade_both "$url" "$url"
}

@test "a connection that fails still writes a summary, naming the database and not its password" {
	run --separate-stderr mig-upgrade -m "$m" -d "postgresql://app:S3cret-pw@127.0.0.1:1/app"
	assert_failure 3
	grep -qx '### mig-upgrade: failed' "$GITHUB_STEP_SUMMARY"
	grep -qxF '| database | postgresql://app:\*\*\*@127\.0\.0\.1:1/app |' "$GITHUB_STEP_SUMMARY"
	grep -qxF '| error | database (exit 3) |' "$GITHUB_STEP_SUMMARY"
	grep -q 'cannot connect to' "$GITHUB_STEP_SUMMARY"
	! grep -q 'S3cret' "$GITHUB_STEP_SUMMARY" || fail "the password is in the summary"
	# a SQLite file that cannot be opened: the same
	: >"$GITHUB_STEP_SUMMARY"
	run --separate-stderr mig-status -m "$m" -d "sqlite:///$BATS_TEST_TMPDIR/no/such/dir/x.db"
	assert_failure 3
	grep -qx '### mig-status: failed' "$GITHUB_STEP_SUMMARY"
	# one summary per run, not two
	assert_equal "$(grep -c '^### ' "$GITHUB_STEP_SUMMARY")" 1
}

@test "a refused stamp's summary holds the differences, not 'see the log' (SQLite and PostgreSQL)" {
	for kind in sqlite pg; do
		if [[ $kind == pg ]]; then
			[[ -n ${MIG_PG_PORT:-} ]] || continue
			url=$(pg_new_db)
			pg_sql "$url" "CREATE TABLE a (id integer PRIMARY KEY, extra text); CREATE TABLE unrelated (x integer)"
		else
			db=$BATS_TEST_TMPDIR/stamp.db
			url=$(sqlite_url "$db")
			sqlite_sql "$db" "CREATE TABLE a (id INTEGER PRIMARY KEY, extra TEXT); CREATE TABLE unrelated (x INTEGER)"
		fi
		: >"$GITHUB_STEP_SUMMARY"
		run --separate-stderr mig-stamp -d "$url" -m "$m" bbbb00000002
		assert_failure 4
		grep -q '^### mig-stamp: nothing stamped (safety, exit 4)' "$GITHUB_STEP_SUMMARY"
		! grep -q 'See the job log' "$GITHUB_STEP_SUMMARY" || fail "the summary sends the reader to the log"
		grep -q '^Differences:' "$GITHUB_STEP_SUMMARY"
		# every difference the text output names is in the summary
		grep -qE '^- \*\*error\*\* .*a2' "$GITHUB_STEP_SUMMARY" || fail "a2 missing: $(cat "$GITHUB_STEP_SUMMARY")"
		grep -qE '^- \*\*error\*\* .*\bb\b' "$GITHUB_STEP_SUMMARY" || fail "b missing: $(cat "$GITHUB_STEP_SUMMARY")"
	done
}

@test "database names in a summary cannot add Markdown: headings, HTML, table cells (red-team B5)" {
	db=$BATS_TEST_TMPDIR/b5.db
	sqlite_sql "$db" "CREATE TABLE \"<img src=x onerror=alert(1)>|a|b
### verify: ok
::error::x\" (id int)"
	printf 'tables:\n  t:\n    columns:\n      id: { type: integer }\n' >"$BATS_TEST_TMPDIR/spec.yaml"
	run --separate-stderr mig-check-schema --strict --spec "$BATS_TEST_TMPDIR/spec.yaml" -d "$(sqlite_url "$db")"
	assert_failure 1
	s=$(cat "$GITHUB_STEP_SUMMARY")
	[[ $s != *"<img"* ]] || fail "raw HTML in the summary: $s"
	! grep -q '^###.*verify' <<<"$s" || fail "a heading from the database: $s"
	! grep -q '^::' <<<"$s" || fail "a line starting with :: : $s"
	grep -qF '&lt;img src=x onerror=alert\(1\)&gt;\|a\|b \#\#\# verify: ok ::error::x' <<<"$s"
	assert_equal "$(grep -c '^### ' <<<"$s")" 1
}
