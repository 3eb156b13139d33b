#!/usr/bin/env bats
# mig-check-schema: live schemas against YAML specs, on real SQLite files and
# the sandbox PostgreSQL server.

load test_helper/common
use_sanitizer_build

# The small schema every difference below is made from; variants change one
# thing each through sed expressions.
base_sql() {
	cat <<'EOF'
CREATE TABLE parents (
  id VARCHAR(36) NOT NULL,
  name VARCHAR(50) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE (name)
);
CREATE TABLE children (
  id VARCHAR(36) NOT NULL,
  parent_id VARCHAR(36) NOT NULL,
  note TEXT,
  PRIMARY KEY (id),
  FOREIGN KEY (parent_id) REFERENCES parents (id) ON DELETE CASCADE
);
CREATE INDEX ix_children_parent_id ON children (parent_id);
EOF
}

# build DB [SED...]: create the base schema, changed by the sed expressions.
build() {
	local db=$1 sql
	shift
	sql=$(base_sql)
	for expr in "$@"; do sql=$(sed -e "$expr" <<<"$sql"); done
	if _mig_is_pg "$db"; then pg_sql "$db" "$sql"; else sqlite_sql "$db" "$sql"; fi
}

url_of() {
	if _mig_is_pg "$1"; then echo "$1"; else sqlite_url "$1"; fi
}

setup() {
	spec=$BATS_TEST_TMPDIR/spec.yaml
	build "$BATS_TEST_TMPDIR/base.db"
	mig-check-schema -d "$(sqlite_url "$BATS_TEST_TMPDIR/base.db")" --dump >"$spec"
}

# line_of TEXT: the spec line holding TEXT.
line_of() {
	grep -n -F -- "$1" "$spec" | head -1 | cut -d: -f1
}

# expect_finding MESSAGE SPECLINE [SED...] [-- FLAGS]: on SQLite and on
# PostgreSQL, a database built with the variant shows exactly that finding.
expect_finding() {
	local msg=$1 line=$2 flags=()
	shift 2
	local exprs=()
	while (($#)) && [[ $1 != -- ]]; do exprs+=("$1"); shift; done
	[[ ${1:-} == -- ]] && shift && flags=("$@")
	local targets=("$BATS_TEST_TMPDIR/variant.db")
	[[ -n ${MIG_PG_PORT:-} ]] && targets+=("$(pg_new_db)")
	for db in "${targets[@]}"; do
		build "$db" "${exprs[@]}"
		run --separate-stderr mig-check-schema -d "$(url_of "$db")" --spec "$spec" "${flags[@]}"
		assert_failure 1
		if [[ -n $line ]]; then
			assert_line --index 0 "$spec:$line: error: $msg"
		else
			assert_line --index 0 "$spec: error: $msg"
		fi
		assert_line --index 1 "1 difference from $spec"
		assert_equal "${#lines[@]}" 2
	done
}

@test "the committed spec matches fresh SQLite and PostgreSQL databases, whose dumps are byte-identical" {
	require_pg
	db=$BATS_TEST_TMPDIR/head.db
	url=$(pg_new_db)
	mig-upgrade -q -d "$(sqlite_url "$db")"
	mig-upgrade -q -d "$url"
	for u in "$(sqlite_url "$db")" "$url"; do
		run --separate-stderr mig-check-schema -d "$u" --spec "$REPO/migrations/schema.yaml" --strict
		assert_success
		assert_output "schema matches $REPO/migrations/schema.yaml (23 tables)"
	done
	mig-check-schema -d "$(sqlite_url "$db")" --dump >"$BATS_TEST_TMPDIR/sqlite.yaml"
	mig-check-schema -d "$url" --dump >"$BATS_TEST_TMPDIR/pg.yaml"
	run cmp "$BATS_TEST_TMPDIR/sqlite.yaml" "$BATS_TEST_TMPDIR/pg.yaml"
	assert_success
	run diff <(grep -v '^#' "$REPO/migrations/schema.yaml") "$BATS_TEST_TMPDIR/pg.yaml"
	assert_success
}

# The operations document's CI check, as a three-line partial spec.
agent_id_spec() {
	printf 'tables:\n  agent_services:\n    columns: { agent_id: { type: varchar(36) } }\n' \
		>"$BATS_TEST_TMPDIR/ops.yaml"
}

@test "the three-line agent_id spec catches agent_id as INTEGER on SQLite at the spec's line" {
	agent_id_spec
	db=$BATS_TEST_TMPDIR/int.db
	baseline_section up | awk '/CREATE TABLE agent_services/ { t = 1 }
		t && /agent_id VARCHAR\(36\)/ { sub(/VARCHAR\(36\)/, "INTEGER"); t = 0 } 1' >"$BATS_TEST_TMPDIR/int.sql"
	sqlite3 -bail "$db" <"$BATS_TEST_TMPDIR/int.sql"
	run --separate-stderr mig-check-schema -d "$(sqlite_url "$db")" --spec "$BATS_TEST_TMPDIR/ops.yaml"
	assert_failure 1
	assert_line --index 0 "$BATS_TEST_TMPDIR/ops.yaml:3: error: agent_services.agent_id: type is integer, spec says varchar(36)"
	assert_line "error: agent_services.agent_id: type integer, but its foreign key references agents.id of type varchar(36)"
	mig-upgrade -q -d "$(sqlite_url "$BATS_TEST_TMPDIR/good.db")"
	run mig-check-schema -d "$(sqlite_url "$BATS_TEST_TMPDIR/good.db")" --spec "$BATS_TEST_TMPDIR/ops.yaml"
	assert_success
}

@test "the three-line agent_id spec catches agent_id as INTEGER on PostgreSQL at the spec's line" {
	require_pg
	agent_id_spec
	url=$(pg_new_db)
	mig-upgrade -q -d "$url"
	pg_sql "$url" "ALTER TABLE agent_services DROP CONSTRAINT agent_services_agent_id_fkey;
		ALTER TABLE agent_services ALTER COLUMN agent_id TYPE integer USING 0"
	run --separate-stderr mig-check-schema -d "$url" --spec "$BATS_TEST_TMPDIR/ops.yaml"
	assert_failure 1
	assert_output --partial "$BATS_TEST_TMPDIR/ops.yaml:3: error: agent_services.agent_id: type is integer, spec says varchar(36)"
}

@test "a missing table is one finding on both dialects" {
	expect_finding "children: table is missing" "$(line_of '  children:')" \
		'/CREATE TABLE children/,/);/d' '/CREATE INDEX/d'
}

@test "an extra table is a finding with --strict on both dialects" {
	expect_finding "extra: table is not in the spec" "" \
		'$a CREATE TABLE extra (id INTEGER);' -- --strict
}

@test "a missing column is one finding on both dialects" {
	expect_finding "children.note: column is missing" "$(line_of 'note:')" '/note TEXT/d'
}

@test "an extra column is a finding with --strict on both dialects" {
	expect_finding "parents.age: column is not in the spec" "$(line_of '  parents:')" \
		's/name VARCHAR(50) NOT NULL,/name VARCHAR(50) NOT NULL, age INTEGER,/' -- --strict
}

@test "a column of another type is one finding on both dialects" {
	expect_finding "children.note: type is integer, spec says text" "$(line_of 'note:')" \
		's/note TEXT/note INTEGER/'
}

@test "a column that became nullable is one finding on both dialects" {
	expect_finding "parents.name: column is nullable, spec says NOT NULL" \
		"$(line_of 'name: {type: varchar(50)')" 's/name VARCHAR(50) NOT NULL/name VARCHAR(50)/'
}

@test "another primary key is one finding on both dialects" {
	expect_finding "children: primary key is (id, parent_id), spec says (id)" "$(line_of '  children:')" \
		'/CREATE TABLE children/,/);/s/PRIMARY KEY (id)/PRIMARY KEY (id, parent_id)/'
}

@test "a missing foreign key is one finding on both dialects" {
	expect_finding "children: foreign key (parent_id) -> parents(id) is missing" \
		"$(line_of 'references: parents(id)')" \
		'/CREATE TABLE children/,/);/s/PRIMARY KEY (id),$/PRIMARY KEY (id)/' '/FOREIGN KEY/d'
}

@test "a foreign key without its ON DELETE CASCADE is one finding on both dialects" {
	expect_finding "children: foreign key (parent_id) on_delete is no action, spec says cascade" \
		"$(line_of 'references: parents(id)')" 's/ ON DELETE CASCADE//'
}

@test "a missing unique constraint is one finding on both dialects" {
	expect_finding "parents: unique constraint (name) is missing" "$(line_of '- [name]')" \
		'/CREATE TABLE parents/,/);/s/PRIMARY KEY (id),$/PRIMARY KEY (id)/' '/UNIQUE (name)/d'
}

@test "a missing index is one finding on both dialects" {
	expect_finding "children: index ix_children_parent_id is missing" \
		"$(line_of 'ix_children_parent_id:')" '/CREATE INDEX/d'
}

@test "an extra index is a finding with --strict on both dialects" {
	expect_finding "children: index ix_children_note is not in the spec" "$(line_of '  children:')" \
		'$a CREATE INDEX ix_children_note ON children (note);' -- --strict
}

@test "--format json lists the findings with their spec lines" {
	build "$BATS_TEST_TMPDIR/v.db" 's/note TEXT/note INTEGER/'
	run --separate-stderr mig-check-schema -d "$(sqlite_url "$BATS_TEST_TMPDIR/v.db")" --spec "$spec" --format json
	assert_failure 1
	run jq -c '{ok, f: [.findings[] | {code, line, message}]}' <<<"$output"
	assert_output "{\"ok\":false,\"f\":[{\"code\":\"type\",\"line\":$(line_of 'note:'),\"message\":\"children.note: type is integer, spec says text\"}]}"
}

@test "under GitHub Actions a difference is an annotation at the spec's line and a summary" {
	build "$BATS_TEST_TMPDIR/v.db" 's/note TEXT/note INTEGER/'
	export GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$BATS_TEST_TMPDIR/summary GITHUB_OUTPUT=$BATS_TEST_TMPDIR/out
	run --separate-stderr mig-check-schema -d "$(sqlite_url "$BATS_TEST_TMPDIR/v.db")" --spec "$spec"
	assert_failure 1
	[[ $stderr == *"::error file=$spec,line=$(line_of 'note:'),title=mig type::children.note: type is integer, spec says text"* ]]
	grep -qF 'children\.note: type is integer' "$GITHUB_STEP_SUMMARY"	# escaped Markdown
	grep -qx "differences=true" "$GITHUB_OUTPUT"
}

# bad_spec CONTENT-FILE EXPECTED-PREFIX: exit 2, the message, nothing on stdout.
bad_spec() {
	run --separate-stderr mig-check-schema -d "$(sqlite_url "$BATS_TEST_TMPDIR/base.db")" --spec "$1"
	assert_failure 2
	assert_output ""
	[[ $stderr == "mig-check-schema: $2"* ]]
}

@test "malformed specs are exit 2 with file, line and column" {
	s=$BATS_TEST_TMPDIR/bad.yaml
	printf 'tables:\n  t: {columns: [\n' >"$s"
	bad_spec "$s" "$s:3:1: "
	printf 'tables:\n  t:\n    colums: {}\n' >"$s"
	bad_spec "$s" "$s:3:5: unknown key 'colums'"
	printf 'tables:\n  t:\n    columns:\n      id: {type: varchr(36)}\n' >"$s"
	bad_spec "$s" "$s:4:"
	[[ $stderr == *"unknown type 'varchr(36)'"* ]]
	printf 'tables:\n  t:\n    columns:\n      id: {type: text}\n      id: {type: text}\n' >"$s"
	bad_spec "$s" "$s:5:7: "
	[[ $stderr == *"duplicate"* ]]
	printf 'tables:\n  - t\n' >"$s"
	bad_spec "$s" "$s:2:3: "
	: >"$s"
	bad_spec "$s" "$s"
	[[ $stderr == *"empty"* ]]
}

@test "a 10 MB spec and a spec of nested aliases are refused quickly with exit 2" {
	s=$BATS_TEST_TMPDIR/big.yaml
	head -c 10485760 /dev/zero | tr '\0' 'x' >"$s"
	bad_spec "$s" "$s"
	s=$BATS_TEST_TMPDIR/lol.yaml
	{
		echo 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
		for i in b c d e f g h i; do
			p=$(printf '%s' "$i" | tr 'b-i' 'a-h')
			echo "$i: &$i [*$p,*$p,*$p,*$p,*$p,*$p,*$p,*$p,*$p]"
		done
		echo 'tables: *i'
	} >"$s"
	bad_spec "$s" "$s:"
}

@test "the number of catalog queries on PostgreSQL does not grow with the number of tables" {
	require_pg
	small=$(pg_new_db)
	large=$(pg_new_db)
	make_tables() {
		local sql="" i
		for ((i = 0; i < $2; i++)); do
			sql+="CREATE TABLE t$i (id integer PRIMARY KEY, p integer REFERENCES t0 (id) ON DELETE CASCADE,
				a varchar(20), b text, c timestamp); CREATE INDEX ix_t${i}_a ON t$i (a);"
		done
		pg_sql "$1" "CREATE TABLE t0x (id integer PRIMARY KEY); ${sql/REFERENCES t0 /REFERENCES t0x }"
	}
	make_tables "$small" 2
	make_tables "$large" 200
	pg_sql "$small" "ALTER SYSTEM SET log_line_prefix = '%m [%p] %a '; SELECT pg_reload_conf()" >/dev/null
	count_statements() {
		local db=${1##*/} before
		pg_sql "$1" "ALTER DATABASE \"$db\" SET log_statement = 'all'"
		before=$(wc -l <"$MIG_TEST_PG_DIR/log")
		mig-check-schema -d "$1" --dump >/dev/null
		sleep 0.2
		tail -n +"$((before + 1))" "$MIG_TEST_PG_DIR/log" | grep -c ' mig-check-schema LOG:  \(statement\|execute\)'
	}
	n_small=$(count_statements "$small")
	n_large=$(count_statements "$large")
	assert_equal "$n_large" "$n_small"
	((n_large <= 10))
	run mig-check-schema -d "$large" --dump
	assert_success
	assert_equal "$(grep -c '^  t[0-9]*:$' <<<"$output")" 200
}
