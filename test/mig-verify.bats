#!/usr/bin/env bats
# mig-verify: the CI migrations job, on real SQLite files and the sandbox
# PostgreSQL server.

load test_helper/common

@test "this repository's migrations verify clean on a temporary SQLite database" {
	run --separate-stderr mig-verify --expect-tables 23 --expect-table agent_services \
		--spec "$REPO/migrations/schema.yaml" --roundtrip
	assert_success
	assert_line "  heads          b07a366647c3"
	assert_line --partial "applied b07a366647c3  baseline schema"
	assert_line "tables: 23 created"
	assert_line "round trip: 1 revision up, down and up again: ok"
	assert_line --regexp "^verify: ok, head b07a366647c3 \("
	assert_equal "$stderr" ""
}

@test "a SQLite run never loads libpq or its libraries; a PostgreSQL URL loads libpq" {
	# LD_DEBUG=libs: glibc's loader names on stderr every library it loads
	run --separate-stderr env LD_DEBUG=libs mig-verify -m "$REPO/migrations" -q
	assert_success
	[[ $stderr == *libsqlite3.so* ]]
	[[ $stderr != *libpq* ]]
	[[ $stderr != *libssl* ]]
	[[ $stderr != *libcrypto* ]]
	# the same trace shows libpq once a PostgreSQL URL is read (no server needed)
	run --separate-stderr env LD_DEBUG=libs mig-status -m "$REPO/migrations" \
		-d "postgresql://[::1/app"
	assert_failure 2
	[[ $stderr == *libpq.so.5* ]]
	[[ $stderr == *"malformed PostgreSQL URL"* ]]
}

@test "this repository's migrations verify clean on an empty PostgreSQL database" {
	require_pg
	url=$(pg_new_db)
	run --separate-stderr mig-verify -d "$url" --expect-tables 23 \
		--spec "$REPO/migrations/schema.yaml" --roundtrip --format json
	assert_success
	run jq -r '[.ok, (.tables | length), .graph.heads[0], .roundtrip.failed] | @tsv' <<<"$output"
	assert_output "$(printf 'true\t23\tb07a366647c3\t')"
	assert_equal "$(count_tables "$url")" 23
	assert_equal "$(version_rows "$url")" "b07a366647c3"
}

@test "the temporary SQLite database is removed afterwards, unless --keep names one" {
	export TMPDIR=$BATS_TEST_TMPDIR/tmp
	mkdir -p "$TMPDIR"
	run mig-verify -q
	assert_success
	assert_equal "$(ls -A "$TMPDIR")" ""
	run mig-verify -q --keep "$BATS_TEST_TMPDIR/kept.db"
	assert_success
	assert_equal "$(count_tables "$BATS_TEST_TMPDIR/kept.db")" 23
}

@test "a non-empty target database is refused with exit 4 and left untouched" {
	require_pg
	url=$(pg_new_db)
	pg_sql "$url" "CREATE TABLE customers (id integer PRIMARY KEY); INSERT INTO customers VALUES (7)"
	before=$(db_fingerprint "$url")
	run --separate-stderr mig-verify -d "$url"
	assert_failure 4
	[[ $stderr == *"is not empty (1 table: customers)"* ]]
	[[ $stderr != *"$MIG_PG_PASSWORD"* ]]
	assert_equal "$(db_fingerprint "$url")" "$before"
	assert_equal "$(pg_sql "$url" "SELECT id FROM customers")" 7
}

@test "mig-verify never reads DATABASE_URL: a production URL in the environment is not touched" {
	db=$BATS_TEST_TMPDIR/prod.db
	make_legacy_db "$db"
	before=$(db_fingerprint "$db")
	DATABASE_URL=$(sqlite_url "$db") run mig-verify -q
	assert_success
	assert_equal "$(db_fingerprint "$db")" "$before"
}

# lint FIXTURE: mig-verify --lint-only on a fixture, output in $output/$stderr.
lint() {
	run --separate-stderr mig-verify --lint-only -m "$(fixture "$1")" "${@:2}"
}

@test "two files declaring the same revision are an error at the second file" {
	lint lint_duplicate
	assert_failure 1
	assert_line --partial "versions/bbbbbbbbbbbb_two.sql:1: error: revision 'bbbbbbbbbbbb' is also declared in"
	assert_line --partial "bbbbbbbbbbbb_one.sql:1"
}

@test "a down_revision naming a revision that never existed is an error at its line" {
	lint lint_missing
	assert_failure 1
	assert_line --partial "versions/cccccccccccc_orphan.sql:2: error: down_revision '0123456789ab' of 'cccccccccccc' names no revision"
}

@test "a down_revision written as a file name suggests the revision that file declares" {
	lint lint_p7
	assert_failure 1
	assert_line --partial "versions/p8_audit.sql:2: error: down_revision 'p7_comprehensive_trust_layer' of 'p8_audit' names no revision"
	assert_line --partial "did you mean 'p7_comprehensive'?"
}

@test "a cycle is an error naming its revisions" {
	lint lint_cycle
	assert_failure 1
	assert_line --partial "versions/bbbbbbbbbbbb_b.sql:2: error: revisions form a cycle: bbbbbbbbbbbb, cccccccccccc"
}

@test "two migrations claiming the same parent are two heads: named, with their ancestor and the merge command" {
	lint lint_heads
	assert_failure 1
	assert_line --partial "versions/cccccccccccc_right.sql:2: error: 2 heads: bbbbbbbbbbbb, cccccccccccc, which branch from 'aaaaaaaaaaaa'"
	assert_line --partial 'join them with a merge revision: mig-new --merge'
}

@test "--allow-multiple-heads turns two heads into a warning" {
	lint lint_heads --allow-multiple-heads
	assert_success
	assert_line --partial "warning: 2 heads: bbbbbbbbbbbb, cccccccccccc"
}

@test "a revision id longer than 32 characters is an error" {
	lint lint_long
	assert_failure 1
	assert_line --partial "_long.sql:1: error: revision 'x123456789012345678901234567890123' is 34 characters long; at most 32 fit"
}

@test "a file not named after its revision, a missing downgrade and a second base are warnings" {
	lint lint_warnings
	assert_success
	assert_line --partial "versions/second_base.sql:1: warning: file name does not start with its revision 'dddddddddddd'"
	assert_line --partial "versions/second_base.sql:1: warning: revision 'dddddddddddd' has no downgrade"
	assert_line --partial "warning: 2 revisions have no down_revision: aaaaaaaaaaaa, dddddddddddd"
	assert_line --regexp "^verify: ok, head eeeeeeeeeeee, with warnings"
}

@test "an INTEGER foreign key column referencing a VARCHAR(36) key is caught on SQLite" {
	run --separate-stderr mig-verify -m "$(fixture fk_mismatch)"
	assert_failure 1
	assert_line "$(fixture fk_mismatch)/versions/aaaaaaaaaaaa_agents.sql:10: error: agent_services.agent_id: type integer, but its foreign key references agents.id of type varchar(36)"
	assert_line --partial "PostgreSQL refuses it (DatatypeMismatch)"
}

@test "the same foreign key fails to apply on PostgreSQL, as it did in production" {
	require_pg
	url=$(pg_new_db)
	run --separate-stderr mig-verify -d "$url" -m "$(fixture fk_mismatch)"
	assert_failure 3
	[[ $stderr == *"aaaaaaaaaaaa_agents.sql:10: foreign key constraint"*"cannot be implemented"* ]]
}

@test "--expect-tables and --expect-table report what is missing" {
	run --separate-stderr mig-verify --expect-tables 24 --expect-table agent_gateways
	assert_failure 1
	assert_line "error: expected 24 tables, the migrations created 23"
	assert_line "error: expected table agent_gateways was not created"
	assert_line "check: 24 tables expected: FAILED"
	assert_line "check: table agent_gateways expected: FAILED"
	assert_line "check: foreign key column types match the referenced columns: ok"
	assert_line --regexp "^verify: FAILED, 2 errors, 0 warnings"
}

@test "a downgrade that forgets an index is reported by the round trip at the line that made the index" {
	run --separate-stderr mig-verify -m "$(fixture roundtrip_index)" --roundtrip
	assert_failure 1
	assert_line --partial "versions/bbbbbbbbbbbb_index.sql:7: error: the downgrade of bbbbbbbbbbbb does not restore the schema: a: index ix_a_id is not expected"
	refute_line --partial "applied cccccccccccc"
}

@test "a downgrade that rebuilds a table in other words passes the round trip; one that loses an index in the rebuild does not" {
	run --separate-stderr mig-verify -m "$(fixture roundtrip_rebuild)" --roundtrip
	assert_failure 1
	refute_line --partial "the downgrade of bbbbbbbbbbbb"
	# at the statement that last made the index: bbbbbbbbbbbb's rebuild
	assert_line --partial "versions/bbbbbbbbbbbb_rebuild.sql:17: error: the downgrade of cccccccccccc does not restore the schema: pet: index ix_pet_name is missing"
	assert_line --regexp "^verify: FAILED, 1 error, 0 warnings"
}

@test "a downgrade that forgets a column is reported at the line that added it, on SQLite and on PostgreSQL" {
	require_pg
	for url in "$(sqlite_url "$BATS_TEST_TMPDIR/rt.db")" "$(pg_new_db)"; do
		run --separate-stderr mig-verify -d "$url" -m "$(fixture roundtrip_column)" --roundtrip
		assert_failure 1
		assert_line --partial "versions/bbbbbbbbbbbb_column.sql:6: error: the downgrade of bbbbbbbbbbbb does not restore the schema: a.note: column is not expected"
	done
}

@test "under GitHub Actions findings become annotations, a summary and step outputs" {
	export GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$BATS_TEST_TMPDIR/summary GITHUB_OUTPUT=$BATS_TEST_TMPDIR/out
	run --separate-stderr mig-verify --lint-only -m "$(fixture lint_missing)"
	assert_failure 1
	[[ $stderr == *"::error file=$(fixture lint_missing)/versions/cccccccccccc_orphan.sql,line=2,title=mig missing-revision::down_revision '0123456789ab' of 'cccccccccccc' names no revision"* ]]
	grep -q "### mig-verify: failed" "$GITHUB_STEP_SUMMARY"
	run mig-verify -q --expect-tables 23
	assert_success
	grep -qx "head=b07a366647c3" "$GITHUB_OUTPUT"
	grep -qx "tables=23" "$GITHUB_OUTPUT"
}

@test "mig-verify --format json is one document with the graph, the findings and the tables" {
	run --separate-stderr mig-verify --format json -m "$(fixture lint_warnings)"
	assert_success
	run jq -c '{ok, bases: .graph.bases, merges: .graph.merge_points, codes: [.findings[].code], tables}' <<<"$output"
	assert_output '{"ok":true,"bases":["aaaaaaaaaaaa","dddddddddddd"],"merges":["eeeeeeeeeeee"],"codes":["file-name","no-downgrade","multiple-bases"],"tables":["a","d"]}'
}

# The round trip on its own scratch database searches mig_history for an
# unfinished step only in its first run (run.h: history_private): every
# later run follows runs that all succeeded.  A downgrade marked
# transactional: false that fails partway is where that could hide
# something; on SQLite (the scratch database) each step is one transaction
# all the same, so what failed is rolled back whole and nothing is left
# unfinished.
@test "a transactional: false downgrade that fails partway ends the round trip at its line; the kept database is whole at the step before" {
	load test_helper/revs
	m=$BATS_TEST_TMPDIR/m
	rev "$m" a1 none "CREATE TABLE t0 (id INTEGER PRIMARY KEY);" "DROP TABLE t0;"
	rev "$m" a2 a1 "CREATE TABLE t1 (id INTEGER PRIMARY KEY);
CREATE TABLE t2 (id INTEGER PRIMARY KEY);" "DROP TABLE t2;
DROP TABLE no_such_table;" "-- transactional: false"
	rev "$m" a3 a2 "CREATE TABLE t3 (id INTEGER PRIMARY KEY);" "DROP TABLE t3;"
	keep=$BATS_TEST_TMPDIR/kept.db
	for args in "" "--keep $keep"; do
		# shellcheck disable=SC2086 # args is zero or two words
		run --separate-stderr mig-verify -m "$m" --roundtrip $args
		assert_failure 1
		assert_line --partial "versions/a2.sql:11: error: the round trip failed at the downgrade of a2: no such table: no_such_table"
		refute_line --partial "applied a3"
	done
	assert_equal "$(tables "$keep")" "t0 t1 t2"
	assert_equal "$(version_rows "$keep")" "a2"
	assert_equal "$(sqlite3 "$keep" "SELECT count(*) FROM mig_history WHERE duration_ms = -1")" 0
	run --separate-stderr mig-upgrade -m "$m" -d "$(sqlite_url "$keep")"
	assert_success
	assert_equal "$(version_rows "$keep")" "a3"
}
