#!/usr/bin/env bats
# history.bats: the applied history table mig_history on SQLite and
# PostgreSQL: one row per step, written in the step's own transaction,
# read by mig-status (--history-log, the edited-after-applied finding),
# left out of schema checks and dumps, and ignored by Alembic.

load test_helper/common
load test_helper/alembic

BASELINE=b07a366647c3 NEXT=e173b895ecb0

setup() {
	m=$BATS_TEST_TMPDIR/m
	mkdir -p "$m/versions"
	cp "$REPO"/migrations/versions/*.sql "$(fixture after_baseline)"/versions/*.sql "$m/versions/"
}

# new_db sqlite|postgresql: echo the URL of a fresh, empty database.
new_db() {
	if [[ $1 == postgresql ]]; then
		pg_new_db
	else
		sqlite_url "$BATS_TEST_TMPDIR/db.$RANDOM$RANDOM"
	fi
}

# q URL SQL: one query on either dialect.
q() {
	if _mig_is_pg "$1"; then pg_sql "$1" "$2"; else sqlite_sql "$1" "$2"; fi
}

# --- rows after upgrade, downgrade, stamp --------------------------------------

rows_after_upgrade_and_downgrade() {
	local db
	db=$(new_db "$1")
	run mig-upgrade -d "$db" -m "$m"
	assert_success
	assert_equal "$(history_rows "$db")" "$(printf 'up %s\nup %s' "$BASELINE" "$NEXT")"
	run mig-downgrade -d "$db" -m "$m" --to -1
	assert_success
	assert_equal "$(history_rows "$db")" "$(printf 'up %s\nup %s\ndown %s' "$BASELINE" "$NEXT" "$NEXT")"
	# Each row's hash is the file's, as sha256sum computes it.
	for rev in $BASELINE $NEXT; do
		want=$(sha256sum "$m"/versions/${rev}_*.sql | cut -d' ' -f1)
		assert_equal "$(q "$db" "SELECT DISTINCT sha256 FROM mig_history WHERE revision = '$rev'")" "$want"
	done
	# Who, from where, when, how long, with what.
	row=$(q "$db" "SELECT started_at, duration_ms, os_user, host, mig_version,
		coalesce(github_run_id, '-'), coalesce(github_sha, '-') FROM mig_history WHERE id = (SELECT min(id) FROM mig_history)")
	IFS='|' read -r started ms os host ver run sha <<<"$row"
	assert_regex "$started" '^20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\.[0-9]{3}Z$'
	assert_regex "$ms" '^[0-9]+$'
	assert_equal "$os" "$(id -un)"
	assert_equal "$host" "$(hostname)"
	assert_equal "$ver" "$(mig-upgrade --version | grep -o '[0-9][0-9.]*' | head -1)"
	assert_equal "$run $sha" "- -"
	if [[ $1 == postgresql ]]; then
		assert_equal "$(q "$db" "SELECT DISTINCT db_user = current_user FROM mig_history")" t
		assert_equal "$(q "$db" "SELECT DISTINCT application_name FROM mig_history WHERE direction = 'up'")" mig-upgrade
		assert_equal "$(q "$db" "SELECT DISTINCT application_name FROM mig_history WHERE direction = 'down'")" mig-downgrade
	else
		assert_equal "$(q "$db" "SELECT count(*) FROM mig_history WHERE db_user IS NULL AND application_name IS NULL")" 3
	fi
	# The version table is still exactly Alembic's one row.
	assert_equal "$(version_rows "$db")" "$BASELINE"
}

@test "upgrade and downgrade write one row per step on SQLite, with the file's SHA-256, who, where and when" {
	rows_after_upgrade_and_downgrade sqlite
}

@test "upgrade and downgrade write one row per step on PostgreSQL, with the database user and application_name" {
	require_pg
	rows_after_upgrade_and_downgrade postgresql
}

stamp_rows() {
	local db
	db=$(new_db "$1")
	make_legacy_db "$db"
	run mig-stamp "$BASELINE" -d "$db" -m "$m"
	assert_success
	assert_equal "$(history_rows "$db")" "stamp $BASELINE"
	want=$(sha256sum "$m"/versions/${BASELINE}_*.sql | cut -d' ' -f1)
	assert_equal "$(q "$db" "SELECT sha256 FROM mig_history")" "$want"
	# Stamping where it already is changes nothing, and records nothing.
	run mig-stamp "$BASELINE" -d "$db" -m "$m"
	assert_success
	run mig-stamp "$BASELINE" -d "$db" -m "$m" --dry-run
	assert_success
	assert_equal "$(history_rows "$db")" "stamp $BASELINE"
	run mig-stamp base --force -d "$db" -m "$m"
	assert_success
	assert_equal "$(history_rows "$db")" "$(printf 'stamp %s\nstamp base' "$BASELINE")"
	assert_equal "$(version_rows "$db")" ""
	# The baseline's tables are still there: a stamp to base records only.
	run mig-status -d "$db" -m "$m" --format json
	assert_success
	assert_equal "$(jq -r .state <<<"$output")" legacy
}

@test "mig-stamp writes a 'stamp' row with the file's SHA-256 on SQLite; a no-op stamp writes none" {
	stamp_rows sqlite
}

@test "mig-stamp writes a 'stamp' row with the file's SHA-256 on PostgreSQL; a no-op stamp writes none" {
	require_pg
	stamp_rows postgresql
}

base_not_legacy() {
	local db
	db=$(new_db "$1")
	run mig-upgrade -d "$db" -m "$m"
	assert_success
	run mig-downgrade -d "$db" -m "$m" --to base
	assert_success
	assert_equal "$(count_tables "$db")" 0
	run mig-status -d "$db" -m "$m" --format json
	assert_success
	assert_equal "$(jq -r .state <<<"$output")" base
	run mig-upgrade -d "$db" -m "$m"
	assert_success
	assert_equal "$(history_rows "$db" | wc -l)" 6
}

@test "downgraded to base, a SQLite database with only the version table and mig_history is at base, not legacy" {
	base_not_legacy sqlite
}

@test "downgraded to base, a PostgreSQL database with only the version table and mig_history is at base, not legacy" {
	require_pg
	base_not_legacy postgresql
}

@test "under GitHub Actions the run id and the commit are recorded" {
	db=$(new_db sqlite)
	GITHUB_ACTIONS=true GITHUB_RUN_ID=4242 GITHUB_SHA=0123abc GITHUB_OUTPUT=$BATS_TEST_TMPDIR/out \
		GITHUB_STEP_SUMMARY=$BATS_TEST_TMPDIR/sum run mig-upgrade -d "$db" -m "$m"
	assert_success
	assert_equal "$(q "$db" "SELECT DISTINCT github_run_id || ' ' || github_sha FROM mig_history")" "4242 0123abc"
}

# --- the same transaction ------------------------------------------------------

failed_step_no_row() {
	local db
	db=$(new_db "$1")
	printf -- '-- revision: bad000000001\n-- down_revision: %s\n\n-- +upgrade\nCREATE TABLE ok_then_fail (id INTEGER);\nSELECT * FROM no_such_table;\n' \
		"$NEXT" >"$m/versions/bad000000001_fails.sql"
	run mig-upgrade -d "$db" -m "$m"
	assert_failure 3
	assert_equal "$(version_rows "$db")" "$NEXT"
	assert_equal "$(history_rows "$db")" "$(printf 'up %s\nup %s' "$BASELINE" "$NEXT")"
}

@test "a migration that fails leaves no history row, and the rows of the steps before it stay (SQLite)" {
	failed_step_no_row sqlite
}

@test "a migration that fails leaves no history row, and the rows of the steps before it stay (PostgreSQL)" {
	require_pg
	failed_step_no_row postgresql
}

@test "a history row that cannot be written rolls its step back: never a version row without its history row" {
	db=$(new_db sqlite)
	run mig-upgrade -d "$db" -m "$m" --to "$BASELINE"
	assert_success
	# A trigger stands in for any failure of the INSERT (a full disk, a
	# revoked grant): the step must not commit without it.
	sqlite_sql "$db" "CREATE TRIGGER no_more BEFORE INSERT ON mig_history
		BEGIN SELECT RAISE(ABORT, 'history refused'); END"
	run --separate-stderr mig-upgrade -d "$db" -m "$m"
	assert_failure 3
	[[ $stderr == *"history refused"* ]]
	[[ $stderr == *"--no-history"* ]]
	assert_equal "$(version_rows "$db")" "$BASELINE"
	assert_equal "$(count_tables "$db")" 23
	assert_equal "$(history_rows "$db")" "up $BASELINE"
}

# --- --no-history -----------------------------------------------------------------

no_history() {
	local db
	db=$(new_db "$1")
	run mig-upgrade -d "$db" -m "$m" --no-history --to "$BASELINE"
	assert_success
	assert_equal "$(history_rows "$db")" ""
	if _mig_is_pg "$db"; then
		assert_equal "$(pg_tables "$db" | grep -c mig_history)" 0
	else
		assert_equal "$(sqlite_tables "$db" | grep -c mig_history)" 0
	fi
	MIG_NO_HISTORY=1 run mig-upgrade -d "$db" -m "$m"
	assert_success
	assert_equal "$(history_rows "$db")" ""
	run mig-downgrade -d "$db" -m "$m" --to -1
	assert_success
	assert_equal "$(history_rows "$db")" "down $NEXT"
	run mig-upgrade -d "$db" -m "$m" --no-history
	assert_success
	run mig-downgrade -d "$db" -m "$m" --to base --no-history
	assert_success
	run mig-stamp "$BASELINE" -d "$db" -m "$m" --no-history --no-verify --force
	assert_failure 4	# nothing to stamp in an empty database: refused
	assert_equal "$(history_rows "$db")" "down $NEXT"
	# MIG_NO_HISTORY=0 is "record".
	MIG_NO_HISTORY=0 run mig-upgrade -d "$db" -m "$m" --to "$BASELINE"
	assert_success
	assert_equal "$(history_rows "$db")" "$(printf 'down %s\nup %s' "$NEXT" "$BASELINE")"
}

@test "--no-history and MIG_NO_HISTORY=1 record nothing and create no table on SQLite" {
	no_history sqlite
}

@test "--no-history and MIG_NO_HISTORY=1 record nothing and create no table on PostgreSQL" {
	require_pg
	no_history postgresql
}

@test "mig-stamp --no-history records nothing" {
	db=$(new_db sqlite)
	make_legacy_db "$db"
	run mig-stamp "$BASELINE" -d "$db" -m "$m" --no-history
	assert_success
	assert_equal "$(version_rows "$db")" "$BASELINE"
	assert_equal "$(sqlite_tables "$db" | grep -c mig_history)" 0
}

# --- mig-status -------------------------------------------------------------------

edited_after_applied() {
	local db f
	db=$(new_db "$1")
	run mig-upgrade -d "$db" -m "$m"
	assert_success
	run --separate-stderr mig-status -d "$db" -m "$m" --check
	assert_success
	assert_line "history:  2 applied revisions recorded in mig_history"
	# A column added to the applied baseline file, as in the report.
	f=$(echo "$m"/versions/${BASELINE}_*.sql)
	cp "$f" "$BATS_TEST_TMPDIR/orig.sql"
	sed -i 's/^CREATE TABLE agents (/CREATE TABLE agents (\n    nickname VARCHAR(40),/' "$f"
	applied=$(q "$db" "SELECT started_at FROM mig_history WHERE revision = '$BASELINE'")
	run --separate-stderr mig-status -d "$db" -m "$m" --check
	assert_failure 1
	assert_line "state:    current (at head)"
	[[ $stderr == *"$f:"*": error: the file of applied revision $BASELINE changed since it was applied on $applied"* ]] ||
		fail "no finding on stderr: $stderr"
	# --check -q still reads the history, stops, and says why (a gate).
	run --separate-stderr mig-status -d "$db" -m "$m" --check -q
	assert_failure 1
	assert_output ""
	[[ $stderr == *"error: the file of applied revision $BASELINE changed"* ]] || fail "$stderr"
	# Without --check it is a warning, and the exit status stays 0.
	run --separate-stderr mig-status -d "$db" -m "$m"
	assert_success
	[[ $stderr == *"warning: the file of applied revision $BASELINE changed since it was applied on $applied"* ]]
	run --separate-stderr mig-status -d "$db" -m "$m" -q
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
	run --separate-stderr mig-status -d "$db" -m "$m" --format json
	assert_success
	assert_equal "$(jq -r '.history.changed[0].code + " " + .history.changed[0].file' <<<"$output")" "applied-file-changed $f"
	# Put back, the gate opens again.
	cp "$BATS_TEST_TMPDIR/orig.sql" "$f"
	run mig-status -d "$db" -m "$m" --check
	assert_success
}

@test "a file edited after it was applied fails mig-status --check on SQLite, naming the revision and the date" {
	edited_after_applied sqlite
}

@test "a file edited after it was applied fails mig-status --check on PostgreSQL, naming the revision and the date" {
	require_pg
	edited_after_applied postgresql
}

@test "revisions applied without history are listed as such and are not errors" {
	db=$(new_db sqlite)
	run mig-upgrade -d "$db" -m "$m" --no-history --to "$BASELINE"
	assert_success
	run mig-upgrade -d "$db" -m "$m"
	assert_success
	run --separate-stderr mig-status -d "$db" -m "$m" --check
	assert_success
	assert_line "history:  1 applied revision recorded in mig_history"
	assert_line --regexp "^unrecorded:  $BASELINE  applied without a history row"
	run mig-status -d "$db" -m "$m" --format json
	assert_equal "$(jq -c '.history | {table, recorded, unrecorded, changed}' <<<"$output")" \
		"{\"table\":true,\"recorded\":1,\"unrecorded\":[\"$BASELINE\"],\"changed\":[]}"
	# Even an edited file is no finding when nothing recorded its hash.
	echo "SELECT 1;" >>"$(echo "$m"/versions/${BASELINE}_*.sql)"
	run mig-status -d "$db" -m "$m" --check
	assert_success
}

history_log() {
	local db
	db=$(new_db "$1")
	[[ $1 != sqlite ]] || : >"$(_mig_sqlite_path "$db")"	# an empty database
	run mig-status -d "$db" -m "$m" --history-log
	assert_success
	assert_output --partial "no history: mig_history does not exist"
	run mig-upgrade -d "$db" -m "$m"
	assert_success
	run mig-downgrade -d "$db" -m "$m" --to -1
	assert_success
	run --separate-stderr mig-status -d "$db" -m "$m" --history-log
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_line --index 0 --regexp "^20.*Z  up     $BASELINE  +[0-9]+ ms  .*@$(hostname)  .*mig [0-9.]+  sha256=[0-9a-f]{12}$"
	assert_line --index 2 --regexp "^20.*Z  down   $NEXT  +[0-9]+ ms  "
	run --separate-stderr mig-status -d "$db" -m "$m" --history-log --format json
	assert_success
	assert_equal "$(jq -c '[.history[] | [.id, .direction, .revision]]' <<<"$output")" \
		"[[1,\"up\",\"$BASELINE\"],[2,\"up\",\"$NEXT\"],[3,\"down\",\"$NEXT\"]]"
	assert_equal "$(jq '.history[0].duration_ms | type' <<<"$output")" '"number"'
	run mig-status -d "$db" -m "$m" --history-log --check
	assert_failure 2
}

@test "mig-status --history-log prints the rows, oldest first, as text and JSON (SQLite)" {
	history_log sqlite
}

@test "mig-status --history-log prints the rows, oldest first, as text and JSON (PostgreSQL)" {
	require_pg
	history_log postgresql
}

# --- left out of schema checks, and Alembic ignores it ---------------------------

left_out_of_checks() {
	local db
	db=$(new_db "$1")
	run mig-upgrade -d "$db" -m "$m" --to "$BASELINE"
	assert_success
	run mig-check-schema -d "$db" --dump
	assert_success
	refute_output --partial mig_history
	mig-check-schema -d "$db" --dump >"$BATS_TEST_TMPDIR/spec.yaml"
	run mig-check-schema -d "$db" --spec "$BATS_TEST_TMPDIR/spec.yaml" --strict
	assert_success
	# mig-verify -d on a database that has only been used by mig
	# still counts only the migrations' tables.
	run mig-verify -d "$(new_db "$1")" -m "$m" --expect-tables 24
	assert_success
}

@test "mig-check-schema --dump and --strict leave mig_history out on SQLite, as the version table" {
	left_out_of_checks sqlite
}

@test "mig-check-schema --dump and --strict leave mig_history out on PostgreSQL, as the version table" {
	require_pg
	left_out_of_checks postgresql
}

alembic_ignores_history() {
	require_alembic
	local db proj=$BATS_TEST_TMPDIR/alembic
	alembic_project "$m" "$proj"
	db=$(new_db "$1")
	run mig-upgrade -d "$db" -m "$m" --to "$BASELINE"
	assert_success
	assert_equal "$(history_rows "$db")" "up $BASELINE"
	run --separate-stderr alembic_cmd "$proj" "$db" current
	assert_success
	assert_output "$BASELINE"
	run --separate-stderr alembic_cmd "$proj" "$db" upgrade head
	assert_success
	assert_equal "$(version_rows "$db")" "$NEXT"
	# Alembic wrote no history row; mig-status says so, and is at head.
	run --separate-stderr mig-status -d "$db" -m "$m" --check
	assert_success
	assert_line --regexp "^unrecorded:  $NEXT  applied without a history row"
	run --separate-stderr alembic_cmd "$proj" "$db" downgrade base
	assert_success
	run mig-upgrade -d "$db" -m "$m"
	assert_success
	assert_equal "$(history_rows "$db")" "$(printf 'up %s\nup %s\nup %s' "$BASELINE" "$BASELINE" "$NEXT")"
}

@test "alembic current and alembic upgrade work on a SQLite database that has mig_history" {
	alembic_ignores_history sqlite
}

@test "alembic current and alembic upgrade work on a PostgreSQL database that has mig_history" {
	require_pg
	alembic_ignores_history postgresql
}

@test "with --version-schema, mig_history is created in that schema beside the version table" {
	require_pg
	db=$(new_db postgresql)
	pg_sql "$db" "CREATE SCHEMA ops" >/dev/null
	run mig-upgrade -d "$db" -m "$m" --version-schema ops
	assert_success
	assert_equal "$(pg_sql "$db" "SELECT count(*) FROM ops.mig_history")" 2
	assert_equal "$(pg_sql "$db" "SELECT to_regclass('public.mig_history') IS NULL")" t
	run mig-status -d "$db" -m "$m" --version-schema ops --history-log
	assert_success
	assert_equal "${#lines[@]}" 2
}

@test "a reader allowed only the version table still gets the status, with a warning; --history-log fails with exit 3" {
	require_pg
	db=$(new_db postgresql)
	run mig-upgrade -d "$db" -m "$m"
	assert_success
	role=ro_$RANDOM$RANDOM
	pg_sql "$db" "CREATE ROLE $role LOGIN PASSWORD 'ro-pw'; GRANT SELECT ON alembic_version TO $role" >/dev/null
	ro_url=$(sed -E "s#^(postgresql://)[^@]*@#\1$role:ro-pw@#" <<<"$db")
	run --separate-stderr mig-status -d "$ro_url" -m "$m" --check
	assert_success
	assert_line "state:    current (at head)"
	[[ $stderr == *"permission denied"*"the check of applied files against it is skipped"* ]] || fail "$stderr"
	[[ $stderr != *ro-pw* ]] || fail "the password was printed: $stderr"
	# -q prints nothing: without --check the history is not read at all
	run --separate-stderr mig-status -d "$ro_url" -m "$m" -q --wait 5
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
	run --separate-stderr mig-status -d "$ro_url" -m "$m" --history-log
	assert_failure 3
	[[ $stderr == *"permission denied"* ]] || fail "$stderr"
	pg_sql "$db" "DROP OWNED BY $role; DROP ROLE $role" >/dev/null
}
