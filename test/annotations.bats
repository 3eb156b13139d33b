#!/usr/bin/env bats
# GitHub Actions annotations: each titled "mig <code>", its path relative to
# $GITHUB_WORKSPACE (so it lands on the pull request's file, wherever mig
# ran from and however the folder was named), and one error, one annotation.

load test_helper/common

setup() {
	ws=$BATS_TEST_TMPDIR/ws
	mkdir -p "$ws/services/api/db/migrations/versions"
	m=$ws/services/api/db/migrations
	export GITHUB_ACTIONS=true GITHUB_WORKSPACE=$ws
	export GITHUB_STEP_SUMMARY=$BATS_TEST_TMPDIR/summary GITHUB_OUTPUT=$BATS_TEST_TMPDIR/output
	printf -- '-- revision: aaaa00000001\n-- down_revision: none\n-- message: first\n\n-- +upgrade\nCREATE TABLE a (id INTEGER PRIMARY KEY);\n\n-- +downgrade\nDROP TABLE a;\n' \
		>"$m/versions/aaaa00000001_first.sql"
}

# annotations: the workflow commands among stdout and stderr of the last run
annotations() {
	printf '%s\n%s\n' "$output" "$stderr" | grep -E '^::(error|warning|notice)' || true
}

broken_sql() {
	printf -- '-- revision: bbbb00000002\n-- down_revision: aaaa00000001\n-- message: broken\n\n-- +upgrade\nCREATE TABLE b (id INTEGER PRIMARY KEY);\nCREAT TABLE c (id INTEGER);\n\n-- +downgrade\nDROP TABLE b;\n' \
		>"$m/versions/bbbb00000002_broken.sql"
}

@test "a failing migration run from a subfolder is one annotation at its repository path, titled (SQLite)" {
	broken_sql
	db=$BATS_TEST_TMPDIR/app.db
	cd "$ws/services/api"
	run --separate-stderr mig-upgrade -m db/migrations -d "$(sqlite_url "$db")"
	assert_failure 3
	assert_equal "$(annotations)" \
		"::error file=services/api/db/migrations/versions/bbbb00000002_broken.sql,line=7,title=mig database::near \"CREAT\": syntax error"
	# the same with an absolute -m, and from outside the workspace
	cd /
	run --separate-stderr mig-upgrade -m "$m" -d "$(sqlite_url "$db")"
	assert_failure 3
	[[ $(annotations) == "::error file=services/api/db/migrations/versions/bbbb00000002_broken.sql,line=7,title=mig database::"* ]]
	[[ $(version_rows "$db") == aaaa00000001 ]]
}

@test "a failing migration is one annotation at its repository path, titled (PostgreSQL)" {
	require_pg
	broken_sql
	url=$(pg_new_db)
	cd "$ws/services/api/db"
	run --separate-stderr mig-upgrade -m migrations -d "$url"
	assert_failure 3
	[[ $(annotations | wc -l) -eq 1 ]]
	[[ $(annotations) == "::error file=services/api/db/migrations/versions/bbbb00000002_broken.sql,line=7,title=mig database::"*"syntax error"* ]]
	[[ $(version_rows "$url") == aaaa00000001 ]]
}

@test "graph findings carry their code as title and the repository path" {
	printf -- '-- revision: cccc00000003\n-- down_revision: 0123456789ab\n\n-- +upgrade\nSELECT 1;\n\n-- +downgrade\nSELECT 1;\n' \
		>"$m/versions/cccc00000003_orphan.sql"
	cd "$ws/services"
	run --separate-stderr mig-verify --lint-only -m api/db/migrations
	assert_failure 1
	annotations | grep -q "^::error file=services/api/db/migrations/versions/cccc00000003_orphan.sql,line=2,title=mig missing-revision::down_revision '0123456789ab'" ||
		fail "$(annotations)"
	# every annotation has a title
	[[ -z $(annotations | grep -v ',title=mig [a-z-]*::\|^::[a-z]* title=mig [a-z-]*::') ]] || fail "untitled: $(annotations)"
}

@test "a spec difference points at the spec in the repository, titled with its code" {
	db=$BATS_TEST_TMPDIR/app.db
	GITHUB_ACTIONS= mig-upgrade -q -m "$m" -d "$(sqlite_url "$db")"
	printf 'tables:\n  a:\n    columns:\n      id: { type: text }\n' >"$ws/services/api/db/schema.yaml"
	cd "$ws/services/api/db"
	run --separate-stderr mig-check-schema --spec schema.yaml -d "$(sqlite_url "$db")"
	assert_failure 1
	assert_equal "$(annotations)" "::error file=services/api/db/schema.yaml,line=4,title=mig type::a.id: type is integer, spec says text"
}

@test "a file outside the workspace keeps the path it was named by" {
	out=$BATS_TEST_TMPDIR/elsewhere/migrations
	mkdir -p "$out/versions"
	cp "$m/versions/aaaa00000001_first.sql" "$out/versions/"
	printf -- '-- revision: dddd00000004\n-- down_revision: aaaa00000001\n\n-- +upgrade\nCREAT TABLE x (id INTEGER);\n\n-- +downgrade\nSELECT 1;\n' \
		>"$out/versions/dddd00000004_bad.sql"
	run --separate-stderr mig-upgrade -m "$out" -d "$(sqlite_url "$BATS_TEST_TMPDIR/x.db")"
	assert_failure 3
	[[ $(annotations) == "::error file=$out/versions/dddd00000004_bad.sql,line=5,title=mig database::"* ]]
}

@test "one error, one annotation: connection, refusal, bad input and usage errors" {
	cd "$ws"
	run --separate-stderr mig-status -m "$m" -d "postgresql://mig:pw@127.0.0.1:1/x"
	assert_failure 3
	[[ $(annotations | wc -l) -eq 1 && $(annotations) == "::error title=mig database::cannot connect"* ]] || fail "$(annotations)"
	sqlite_sql "$BATS_TEST_TMPDIR/e.db" "CREATE TABLE a (id INTEGER PRIMARY KEY)"
	run --separate-stderr mig-stamp -m "$m" -d "$(sqlite_url "$BATS_TEST_TMPDIR/e.db")" nosuchrev
	assert_failure 4
	[[ $(annotations | wc -l) -eq 1 && $(annotations) == "::error title=mig safety::"* ]] || fail "$(annotations)"
	run --separate-stderr mig-upgrade -m "$m" --bogus
	assert_failure 2
	assert_equal "$(annotations)" "::error title=mig usage::unknown option '--bogus'"
	run --separate-stderr mig-status -m "$m" --wait soon
	assert_failure 2
	[[ $(annotations | wc -l) -eq 1 && $(annotations) == "::error title=mig input::--wait: 'soon'"* ]] || fail "$(annotations)"
	# with --format json too: still one annotation, and the document
	run --separate-stderr mig-status --format json -m "$m" -d "postgresql://mig:pw@127.0.0.1:1/x"
	assert_failure 3
	[[ $(annotations | wc -l) -eq 1 ]]
	[[ $(jq -r .error.kind <<<"$output") == database ]]
}
