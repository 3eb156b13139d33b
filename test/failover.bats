#!/usr/bin/env bats
# A real failover on pg_auto_failover (a monitor, a primary and its
# secondary, started here and stopped at the end): a multi-host URL with
# target_session_attrs=read-write follows the primary; a failover during a
# slow migration ends the run with exit 3, the file and the line, and a
# clean rollback; a second run applies the rest once, on both nodes.
# Skipped, with the reason, where pg_auto_failover is not installed.

load test_helper/common
load test_helper/poolers

# The tests share one formation, and one of them fails it over: never two at once.
BATS_NO_PARALLELIZE_WITHIN_FILE=true

setup_file() {
	[[ -n ${MIG_PG_PORT:-} && -z $(formation_missing) ]] || return 0
	formation_start
}

teardown_file() {
	formation_stop
}

setup() {
	require_pg
	local missing
	missing=$(formation_missing)
	[[ -z $missing ]] || skip "$missing"
	[[ -n ${MIG_AF_DIR:-} ]] || fail "the pg_auto_failover formation did not start"
	formation_wait "a primary and a secondary" formation_has_states 2
}

# three DIR: f1 logs itself; f2 logs itself, then runs until it is
# terminated (at most 120 s), then makes a table; f3 logs itself.
three() {
	mkdir -p "$1/versions"
	cat >"$1/versions/f1_log.sql" <<-'SQL'
		-- revision: f1
		-- down_revision: none

		-- +upgrade
		CREATE TABLE applied_log (rev VARCHAR(32) NOT NULL);
		INSERT INTO applied_log (rev) VALUES ('f1');

		-- +downgrade
		DROP TABLE applied_log;
	SQL
	cat >"$1/versions/f2_slow.sql" <<-'SQL'
		-- revision: f2
		-- down_revision: f1

		-- +upgrade
		INSERT INTO applied_log (rev) VALUES ('f2');
		CREATE TABLE t2 (id INTEGER PRIMARY KEY);
		SELECT pg_sleep(0.1) FROM generate_series(1, CASE
			WHEN EXISTS (SELECT 1 FROM pg_settings WHERE name = 'application_name'
			             AND setting = 'mig-upgrade') THEN 1200 ELSE 0 END);
		CREATE TABLE t2b (id INTEGER PRIMARY KEY);

		-- +downgrade
		DROP TABLE t2b;
		DROP TABLE t2;
	SQL
	cat >"$1/versions/f3_log.sql" <<-'SQL'
		-- revision: f3
		-- down_revision: f2

		-- +upgrade
		INSERT INTO applied_log (rev) VALUES ('f3');

		-- +downgrade
		DELETE FROM applied_log WHERE rev = 'f3';
	SQL
}

# state N: what node N's database app holds: version rows, then the log, then
# whether t2 exists.
state() {
	node_sql "$1" app "SELECT (SELECT string_agg(version_num, ' ') FROM alembic_version)
		|| ' | ' || (SELECT string_agg(rev, ' ' ORDER BY rev) FROM applied_log)
		|| ' | ' || (to_regclass('t2') IS NOT NULL)"
}

# caught_up N: standby node N has replayed everything the primary wrote.
caught_up() {
	local primary lsn
	primary=$(formation_primary)
	lsn=$(node_sql "$primary" postgres "SELECT pg_current_wal_lsn()")
	[[ $(node_sql "$1" postgres "SELECT pg_last_wal_replay_lsn() >= '$lsn'::pg_lsn") == t ]]
}

# slow_statement_running N: the slow statement of f2 runs on node N.
slow_statement_running() {
	[[ $(node_sql "$1" postgres "SELECT count(*) FROM pg_stat_activity
		WHERE application_name = 'mig-upgrade' AND state = 'active'
		AND query LIKE '%pg_sleep(0.1)%'") == 1 ]]
}

@test "a failover during a slow migration: exit 3 with file and line, a clean rollback, and a rerun applies the rest once on both nodes" {
	m=$BATS_TEST_TMPDIR/m
	three "$m"
	old=$(formation_primary)
	new=$((3 - old))
	node_sql "$old" postgres "CREATE DATABASE app"
	# libpq tries the next host when one is down or read-only, not when it
	# says the database does not exist: let the standby have it first
	formation_wait "node$new has the database" caught_up "$new"
	# the standby first: libpq must skip it for the primary
	url="postgresql://postgres@localhost:$MIG_AF_PORT2,localhost:$MIG_AF_PORT1/app?target_session_attrs=read-write&connect_timeout=20"
	if ((old == 2)); then
		url="postgresql://postgres@localhost:$MIG_AF_PORT1,localhost:$MIG_AF_PORT2/app?target_session_attrs=read-write&connect_timeout=20"
	fi

	mig-upgrade -d "$url" -m "$m" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	upgrade=$!
	formation_wait "f2's slow statement runs on node$old" slow_statement_running "$old"
	_af pg_autoctl perform failover --pgdata "$MIG_AF_DIR/monitor" >"$BATS_TEST_TMPDIR/failover.log" 2>&1 ||
		fail "pg_autoctl perform failover: $(cat "$BATS_TEST_TMPDIR/failover.log")"
	rc=0
	wait "$upgrade" || rc=$?
	cat "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err"
	assert_equal "$rc" 3
	assert_equal "$(formation_primary)" "$new"
	grep -q "applied f1" "$BATS_TEST_TMPDIR/out" || fail "f1 was not reported applied"
	# the file and line of the statement that was running
	# (after the database it is about, as every database error names it)
	grep -F ": $m/versions/f2_slow.sql:7: " "$BATS_TEST_TMPDIR/err" | grep -q "^mig-upgrade: postgresql://" ||
		fail "no file and line in: $(cat "$BATS_TEST_TMPDIR/err")"
	grep -qF "the upgrade of f2 was rolled back; the database is still at f1" "$BATS_TEST_TMPDIR/err" ||
		fail "$(cat "$BATS_TEST_TMPDIR/err")"
	# a clean rollback: nothing of f2 on the new primary
	assert_equal "$(state "$new")" "f1 | f1 | false"

	run mig-upgrade -d "$url" -m "$m"
	assert_success
	assert_output --partial "upgrading from f1: 2 migrations"
	formation_wait "a primary and a secondary again" formation_has_states 2
	formation_wait "node$old replays the rerun" caught_up "$old"
	assert_equal "$(state "$new")" "f3 | f1 f2 f3 | true"
	assert_equal "$(state "$old")" "f3 | f1 f2 f3 | true"
}

@test "a multi-host URL with target_session_attrs=read-write finds the primary wherever it is; without it the standby is refused" {
	m=$BATS_TEST_TMPDIR/m
	three "$m"
	rm "$m/versions/f2_slow.sql"
	sed -i 's/^-- down_revision: f2$/-- down_revision: f1/' "$m/versions/f3_log.sql"
	primary=$(formation_primary)
	standby=$((3 - primary))
	node_sql "$primary" postgres "CREATE DATABASE app2"
	formation_wait "node$standby has the database" caught_up "$standby"
	standby_port=MIG_AF_PORT$standby
	primary_port=MIG_AF_PORT$primary
	hosts="localhost:${!standby_port},localhost:${!primary_port}"
	run --separate-stderr mig-upgrade -d "postgresql://postgres@$hosts/app2" -m "$m" --to f1
	assert_failure 4
	[[ $stderr == *"read-only standby; connect to the primary (target_session_attrs=read-write)"* ]] || fail "$stderr"
	run mig-upgrade -d "postgresql://postgres@$hosts/app2?target_session_attrs=read-write" -m "$m"
	assert_success
	assert_equal "$(node_sql "$primary" app2 "SELECT version_num FROM alembic_version")" f3
	formation_wait "node$standby replays it" caught_up "$standby"
	run mig-status -d "postgresql://postgres@$hosts/app2" -m "$m" --check
	assert_success
}
