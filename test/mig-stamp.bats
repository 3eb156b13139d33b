#!/usr/bin/env bats
# mig-stamp on real SQLite files and the sandbox PostgreSQL server.

load test_helper/common
use_sanitizer_build
load test_helper/alembic

# The repository's baseline plus one later migration, as a deploy would have.
with_next_migration() {
	mkdir -p "$BATS_TEST_TMPDIR/m/versions"
	cp "$REPO"/migrations/versions/*.sql "$(fixture after_baseline)"/versions/*.sql \
		"$BATS_TEST_TMPDIR/m/versions/"
	echo "$BATS_TEST_TMPDIR/m"
}

# A legacy database is stamped, upgraded past the baseline, and Alembic agrees.
assert_legacy_lifecycle() {
	local db=$1 url=$2 m proj
	m=$(with_next_migration)
	make_legacy_db "$db"
	run --separate-stderr mig-stamp b07a366647c3 -d "$url" -m "$m"
	assert_success
	assert_line "checked: the schema holds what the migrations up to it create"
	assert_line "alembic_version: b07a366647c3"
	assert_equal "$(version_rows "$db")" "b07a366647c3"
	run mig-upgrade -d "$url" -m "$m"
	assert_success
	assert_line --partial "applied e173b895ecb0  add api gateway tables"
	assert_equal "$(count_tables "$db")" 24
	proj=$BATS_TEST_TMPDIR/alembic
	alembic_project "$m" "$proj"
	assert_equal "$(alembic_revs "$proj" "$url" current)" "e173b895ecb0"
}

@test "a legacy SQLite database is stamped, then upgraded, and alembic current agrees" {
	require_alembic
	db=$BATS_TEST_TMPDIR/legacy.db
	assert_legacy_lifecycle "$db" "$(sqlite_url "$db")"
}

@test "a legacy PostgreSQL database is stamped, then upgraded, and alembic current agrees" {
	require_pg
	require_alembic
	url=$(pg_new_db)
	assert_legacy_lifecycle "$url" "$url"
}

# refused DB URL REV [FLAGS...]: exit 4, nothing on stdout but findings, and
# the database exactly as it was.  $stderr is left for the caller.
refused() {
	local db=$1 url=$2 before
	shift 2
	before=$(db_fingerprint "$db")
	run --separate-stderr mig-stamp "$@" -d "$url"
	assert_failure 4
	assert_equal "$(db_fingerprint "$db")" "$before"
}

@test "a revision the graph does not have is refused and nothing changes" {
	db=$BATS_TEST_TMPDIR/r1.db
	make_legacy_db "$db"
	refused "$db" "$(sqlite_url "$db")" ffff00000000
	[[ $stderr == *"'ffff00000000' is not a revision in migrations/versions"* ]]
	assert_equal "$(version_rows "$db")" ""
}

@test "a database already at another revision is refused with the command that moves it" {
	require_pg
	url=$(pg_new_db)
	m=$(with_next_migration)
	mig-upgrade -q -d "$url" -m "$m"
	refused "$url" "$url" b07a366647c3 -m "$m"
	[[ $stderr == *"the database is already at 'e173b895ecb0'; stamping would overwrite that"* ]]
	[[ $stderr == *"mig-downgrade --to b07a366647c3"* ]]
}

@test "a database at a revision the graph no longer has is refused; --force repairs it" {
	require_pg
	url=$(pg_new_db)
	m=$(with_next_migration)
	mig-upgrade -q -d "$url" -m "$m"
	rm "$m"/versions/e173b895ecb0_*.sql
	pg_sql "$url" "DROP TABLE api_gateways"
	refused "$url" "$url" b07a366647c3 -m "$m"
	[[ $stderr == *"the database is at 'e173b895ecb0', which is not in $m/versions"* ]]
	[[ $stderr == *"mig-stamp --force b07a366647c3"* ]]
	run --separate-stderr mig-stamp --force b07a366647c3 -d "$url" -m "$m"
	assert_success
	assert_line "alembic_version: b07a366647c3"
	assert_equal "$(version_rows "$url")" "b07a366647c3"
}

@test "an empty database is refused: mig-upgrade is what creates a schema" {
	require_pg
	url=$(pg_new_db)
	refused "$url" "$url" b07a366647c3
	[[ $stderr == *"the database has no tables: there is nothing to stamp"* ]]
	[[ $stderr == *"mig-upgrade --to b07a366647c3"* ]]
	assert_equal "$(pg_tables "$url")" ""
}

@test "a legacy SQLite database missing a table is refused with that difference named, at the migration that creates it" {
	db=$BATS_TEST_TMPDIR/missing.db
	make_legacy_db "$db"
	sqlite_sql "$db" "DROP TABLE workflow_executions"
	refused "$db" "$(sqlite_url "$db")" b07a366647c3
	assert_output "migrations/versions/b07a366647c3_baseline_schema.sql:272: error: workflow_executions: table is missing"
	[[ $stderr == *"does not hold what b07a366647c3 requires"* ]]
	assert_equal "$(version_rows "$db")" ""
}

@test "a legacy PostgreSQL database with agent_services.agent_id as INTEGER is refused with that difference" {
	require_pg
	url=$(pg_new_db)
	make_legacy_db "$url"
	pg_sql "$url" "ALTER TABLE agent_services DROP CONSTRAINT agent_services_agent_id_fkey;
		ALTER TABLE agent_services ALTER COLUMN agent_id TYPE integer USING 0"
	refused "$url" "$url" b07a366647c3
	assert_line "migrations/versions/b07a366647c3_baseline_schema.sql:55: error: agent_services.agent_id: type is integer, expected varchar(36)"
	assert_line --partial "foreign key (agent_id) -> agents(id) is missing"
	assert_equal "$(version_rows "$url")" ""
}

@test "a table the migrations do not know is a warning, not a refusal" {
	db=$BATS_TEST_TMPDIR/extra.db
	make_legacy_db "$db"
	sqlite_sql "$db" "CREATE TABLE celery_taskmeta (id INTEGER PRIMARY KEY)"
	run --separate-stderr mig-stamp b07a366647c3 -d "$(sqlite_url "$db")"
	assert_success
	assert_line "warning: celery_taskmeta: table is not expected"
	assert_equal "$(version_rows "$db")" "b07a366647c3"
}

@test "a spec replaces the replay, and --no-verify skips the check when asked" {
	db=$BATS_TEST_TMPDIR/spec.db
	make_legacy_db "$db"
	sqlite_sql "$db" "DROP TABLE workflow_executions"
	refused "$db" "$(sqlite_url "$db")" b07a366647c3 --spec "$REPO/migrations/schema.yaml"
	assert_output --partial "workflow_executions: table is missing"
	run --separate-stderr mig-stamp b07a366647c3 --no-verify -d "$(sqlite_url "$db")"
	assert_success
	assert_line "checked: the schema was not checked"
}

@test "Alembic .py scripts cannot be replayed: the stamp asks for --spec or --no-verify" {
	db=$BATS_TEST_TMPDIR/py.db
	sqlite_sql "$db" "CREATE TABLE a (id INTEGER PRIMARY KEY)"
	m=$(fixture alembic_py_classic)
	rev=$(sed -n "s/^revision = '\(.*\)'/\1/p" "$m"/versions/*.py | head -1)
	refused "$db" "$(sqlite_url "$db")" "$rev" -m "$m"
	[[ $stderr == *"is an Alembic script"*"--spec FILE"*"--no-verify"* ]]
}

@test "stamping the revision a database already holds does nothing and exits 0" {
	db=$BATS_TEST_TMPDIR/again.db
	make_legacy_db "$db"
	mig-stamp -q b07a366647c3 -d "$(sqlite_url "$db")"
	before=$(db_fingerprint "$db")
	run --separate-stderr mig-stamp b07a366647c3 -d "$(sqlite_url "$db")"
	assert_success
	assert_line "already at b07a366647c3; nothing to do"
	assert_line "alembic_version: b07a366647c3"
	assert_equal "$(db_fingerprint "$db")" "$before"
}

@test "--dry-run runs the checks, says what it would do, and changes nothing" {
	require_pg
	url=$(pg_new_db)
	make_legacy_db "$url"
	before=$(db_fingerprint "$url")
	run --separate-stderr mig-stamp --dry-run head -d "$url"
	assert_success
	assert_line "dry run: would stamp b07a366647c3 (now unstamped); nothing changed"
	refute_line --partial "alembic_version:"
	assert_equal "$(db_fingerprint "$url")" "$before"
	assert_equal "$(pg_tables "$url" | grep -c alembic_version)" 0
}

@test "eight stamps at once leave exactly one version row and all succeed" {
	require_pg
	url=$(pg_new_db)
	make_legacy_db "$url"
	for i in 1 2 3 4 5 6 7 8; do
		mig-stamp b07a366647c3 -d "$url" >"$BATS_TEST_TMPDIR/out.$i" 2>&1 &
	done
	fails=0
	for job in $(jobs -p); do wait "$job" || fails=$((fails + 1)); done
	assert_equal "$fails" 0
	assert_equal "$(pg_sql "$url" "SELECT count(*) FROM alembic_version")" 1
	assert_equal "$(cat "$BATS_TEST_TMPDIR"/out.* | grep -c '^alembic_version: b07a366647c3$')" 8
	assert_equal "$(cat "$BATS_TEST_TMPDIR"/out.* | grep -c '^already at b07a366647c3')" 7
	# and one history row: the seven that found it done recorded nothing
	assert_equal "$(history_rows "$url")" "stamp b07a366647c3"
}

@test "a stamp racing an upgrade never leaves a version row the schema does not match" {
	require_pg
	m=$(with_next_migration)
	for round in 1 2 3; do
		url=$(pg_new_db)
		mig-upgrade -q -d "$url" -m "$m" --to b07a366647c3
		pg_sql "$url" "DELETE FROM alembic_version"
		mig-stamp b07a366647c3 -d "$url" -m "$m" >/dev/null 2>&1 &
		mig-upgrade -d "$url" -m "$m" >/dev/null 2>&1 &
		wait || true
		rows=$(version_rows "$url")
		gateways=$(pg_sql "$url" "SELECT count(*) FROM pg_tables WHERE tablename = 'api_gateways'")
		case $rows in
		"") assert_equal "$gateways" 0 ;;
		b07a366647c3) assert_equal "$gateways" 0 ;;
		e173b895ecb0) assert_equal "$gateways" 1 ;;
		*) fail "unexpected version rows '$rows' in round $round" ;;
		esac
	done
}

@test "the password never appears in any output, in success or failure, under GitHub Actions too" {
	require_pg
	url=$(pg_new_db)
	make_legacy_db "$url"
	export GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$BATS_TEST_TMPDIR/summary GITHUB_OUTPUT=$BATS_TEST_TMPDIR/out
	pw=$MIG_PG_PASSWORD
	check() {
		local unmasked
		unmasked=$(grep -v "^::add-mask::" <<<"$stderr" || true)
		[[ $output != *"$pw"* && $unmasked != *"$pw"* ]] || fail "password printed: $output $stderr"
		[[ $stderr == "::add-mask::$pw"* ]] || fail "the password was not masked first: $stderr"
		! grep -qF "$pw" "$GITHUB_STEP_SUMMARY" "$GITHUB_OUTPUT" 2>/dev/null || fail "password in GitHub files"
	}
	DATABASE_URL=$url run --separate-stderr mig-stamp b07a366647c3
	assert_success
	check
	grep -qx "revision=b07a366647c3" "$GITHUB_OUTPUT"
	run --separate-stderr mig-stamp b07a366647c3 -d "$url" --format json
	assert_success
	check
	pw=Wr0ng-Passw0rd
	run --separate-stderr mig-stamp b07a366647c3 -d "${url/$MIG_PG_PASSWORD/$pw}"
	assert_failure 3
	check
	[[ $stderr == *"postgresql://mig:***@127.0.0.1"* ]]
	pw=An0ther-Secret
	run --separate-stderr mig-stamp b07a366647c3 -d "postgresql://mig:$pw@host.invalid:5432/app"
	assert_failure 3
	check
}
