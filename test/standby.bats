#!/usr/bin/env bats
# mig against a real streaming standby (pg_basebackup -R from the harness's
# primary): mig-status reads it; every program that would change the
# database refuses it (exit 4) before it plans or prints anything; a
# multi-host URL with target_session_attrs=read-write finds the primary.

load test_helper/common
load test_helper/poolers

setup_file() {
	[[ -n ${MIG_PG_PORT:-} ]] || return 0
	standby_start
}

teardown_file() {
	standby_stop
}

setup() {
	require_pg
	[[ -n ${MIG_SB_PORT:-} ]] || fail "the standby did not start"
}

# chain DIR N: N migrations, each creating one table.
chain() {
	local dir=$1 n=$2 i prev=none id
	mkdir -p "$dir/versions"
	for ((i = 1; i <= n; i++)); do
		id=$(printf 's%011d' "$i")
		printf -- '-- revision: %s\n-- down_revision: %s\n\n-- +upgrade\nCREATE TABLE t%d (id INTEGER PRIMARY KEY);\n\n-- +downgrade\nDROP TABLE t%d;\n' \
			"$id" "$prev" "$i" "$i" >"$dir/versions/${id}_step.sql"
		prev=$id
	done
}

# primary_at_one: a database on the primary at the first of two revisions,
# replayed on the standby; sets url, sb and m.
primary_at_one() {
	url=$(pg_new_db)
	m=$BATS_TEST_TMPDIR/m
	chain "$m" 2
	run mig-upgrade -q -d "$url" -m "$m" --to s00000000001
	assert_success
	# wait for what the tests need: the version row replayed on the standby
	for _ in $(seq 900); do
		[[ $(standby_sql "$url" "SELECT version_num FROM alembic_version" 2>/dev/null) == \
			s00000000001 ]] && break
		sleep 0.1
	done
	sb=$(standby_url "$url")
	assert_equal "$(standby_sql "$url" "SELECT version_num FROM alembic_version")" s00000000001
}

refused_as_standby() {
	assert_failure 4
	# text mode prints nothing on stdout; --format json only the error document
	[[ -z $output || $(jq -r '.error.kind + " " + (.error.code | tostring)' <<<"$output") == "safety 4" ]] ||
		fail "stdout: $output"
	[[ $output != *s00000000002* ]] || fail "a plan on stdout: $output"
	[[ $stderr == *"read-only standby; connect to the primary (target_session_attrs=read-write)"* ]] ||
		fail "not the standby refusal: $stderr"
	# refused before any plan: no "upgrading", no revision named
	[[ $stderr != *s00000000002* && $stderr != *pgrading* && $stderr != *owngrading* ]] ||
		fail "something was planned: $stderr"
	assert_equal "$(version_rows "$url")" s00000000001
	assert_equal "$(count_tables "$url")" 1
}

@test "mig-status reads a standby: exit 0, the revision and what is pending" {
	primary_at_one
	run mig-status -d "$sb" -m "$m"
	assert_success
	assert_output --partial s00000000001
	assert_output --partial s00000000002
	run mig-status -d "$sb" -m "$m" --format json
	assert_success
	assert_equal "$(jq -c '.current' <<<"$output")" '["s00000000001"]'
}

@test "mig-check-schema reads a standby: --dump writes the primary's schema" {
	primary_at_one
	run --separate-stderr mig-check-schema -d "$sb" --dump
	assert_success
	assert_output --partial "t1:"
	assert_equal "$output" "$(mig-check-schema -d "$url" --dump)"
}

@test "mig-upgrade on a standby is refused before printing any plan: exit 4, the primary unchanged" {
	primary_at_one
	run --separate-stderr mig-upgrade -d "$sb" -m "$m"
	refused_as_standby
	run --separate-stderr mig-upgrade -v -d "$sb" -m "$m" --lock-mode transaction
	refused_as_standby
	run --separate-stderr mig-upgrade -d "$sb" -m "$m" --no-lock
	refused_as_standby
}

@test "mig-upgrade --format json on a standby: exit 4 with the reason in the error document, no plan on stdout" {
	primary_at_one
	run --separate-stderr mig-upgrade -d "$sb" -m "$m" --format json
	refused_as_standby
}

@test "mig-stamp and mig-downgrade on a standby are refused: exit 4, nothing planned" {
	primary_at_one
	run --separate-stderr mig-stamp -d "$sb" -m "$m" s00000000002
	refused_as_standby
	run --separate-stderr mig-stamp -d "$sb" -m "$m" s00000000002 --dry-run
	refused_as_standby
	run --separate-stderr mig-downgrade -d "$sb" -m "$m" --to base
	refused_as_standby
}

@test "mig-upgrade --sql on a standby prints the SQL: it changes nothing" {
	primary_at_one
	run --separate-stderr mig-upgrade -d "$sb" -m "$m" --sql
	assert_success
	assert_output --partial "CREATE TABLE t2"
}

@test "a multi-host URL with target_session_attrs=read-write skips the standby and upgrades the primary" {
	primary_at_one
	db=$(_mig_pg_dbname "$url")
	multi="postgresql://$MIG_PG_USER@/$db?host=$MIG_SB_DIR,$MIG_PG_HOST&port=$MIG_SB_PORT,$MIG_PG_PORT&target_session_attrs=read-write"
	run mig-upgrade -d "$multi" -m "$m"
	assert_success
	assert_equal "$(version_rows "$url")" s00000000002
	# without it libpq takes the first host that answers: the standby, refused
	run --separate-stderr mig-downgrade -d "${multi%&target_session_attrs=*}" -m "$m" --to s00000000001
	assert_failure 4
	[[ $stderr == *"read-only standby"* ]] || fail "$stderr"
	assert_equal "$(version_rows "$url")" s00000000002
}
