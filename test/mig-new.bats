#!/usr/bin/env bats
# mig-new: new migration files, checked with the other programs on real
# SQLite files and the sandbox PostgreSQL server.

load test_helper/common

BASELINE=b07a366647c3

# copy_migrations [FIXTURE]: a private copy of migrations/ (or of a fixture) in
# $BATS_TEST_TMPDIR/m; echo its path.
copy_migrations() {
	local src=${1:-$REPO/migrations}
	rm -rf "$BATS_TEST_TMPDIR/m"
	mkdir -p "$BATS_TEST_TMPDIR/m"
	cp -R "$src/versions" "$BATS_TEST_TMPDIR/m/"
	echo "$BATS_TEST_TMPDIR/m"
}

# header FILE KEY: the value of "-- KEY: value" in FILE's header.
header() {
	sed -n "s/^-- $2: //p" "$1"
}

# file_count DIR: how many files DIR/versions holds.
file_count() {
	find "$1/versions" -type f | wc -l
}

# add_feature_flags FILE: write a table into the sections of a new migration,
# as a person would: the CREATE above the downgrade marker, the DROP below it.
add_feature_flags() {
	sed -i 's/^-- +downgrade$/CREATE TABLE feature_flags (\n  id VARCHAR(36) NOT NULL,\n  org_id VARCHAR(36) NOT NULL,\n  name VARCHAR(100) NOT NULL,\n  PRIMARY KEY (id),\n  FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE\n);\n\n&/' "$1"
	cat >>"$1" <<-'SQL'
		DROP TABLE feature_flags;
	SQL
}

# assert_lint_clean DIR: mig-verify --lint-only passes without a warning.
assert_lint_clean() {
	run --separate-stderr mig-verify --lint-only -m "$1"
	assert_success
	refute_output --partial "warning"
	refute_output --partial "error"
	assert_equal "$stderr" ""
}

@test "mig-new writes a file chained to the single head and prints only its path" {
	m=$(copy_migrations)
	run --separate-stderr mig-new -m "$m" --message "Add feature flags"
	assert_success
	assert_equal "$stderr" ""
	[[ $output =~ ^$m/versions/([0-9a-f]{12})_add_feature_flags\.sql$ ]] ||
		fail "unexpected output: $output"
	id=${BASH_REMATCH[1]}
	f=$output
	assert [ -f "$f" ]
	assert_equal "$(header "$f" revision)" "$id"
	assert_equal "$(header "$f" down_revision)" "$BASELINE"
	assert_equal "$(header "$f" message)" "Add feature flags"
	[[ $(header "$f" create_date) =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9]{2}:[0-9]{2}:[0-9]{2}$ ]] ||
		fail "create_date is '$(header "$f" create_date)'"
	assert_equal "$(grep -c '^-- +upgrade$' "$f")" 1
	assert_equal "$(grep -c '^-- +downgrade$' "$f")" 1
	assert_equal "$(file_count "$m")" 2
	assert_lint_clean "$m"
}

@test "mig-status reads the new file's header and lists it as pending on PostgreSQL" {
	require_pg
	url=$(pg_new_db)
	m=$(copy_migrations)
	mig-upgrade -q -d "$url" -m "$m"
	f=$(mig-new -m "$m" --message "add feature flags")
	id=$(header "$f" revision)
	run --separate-stderr mig-status -d "$url" -m "$m"
	assert_success
	assert_line "state:    behind (1 pending)"
	assert_line "heads:    $id"
	assert_line "pending:   $id  add feature flags"
}

@test "the first migration of an empty folder has down_revision none and applies" {
	m=$BATS_TEST_TMPDIR/fresh
	make_migrations "$m"
	run --separate-stderr mig-new -m "$m" "initial schema"
	assert_success
	f=$output
	[[ $f == "$m"/versions/*_initial_schema.sql ]] || fail "unexpected path: $f"
	assert_equal "$(header "$f" down_revision)" "none"
	assert_lint_clean "$m"
	db=$BATS_TEST_TMPDIR/fresh.db
	run --separate-stderr mig-upgrade -d "$(sqlite_url "$db")" -m "$m"
	assert_success
	assert_equal "$(version_rows "$db")" "$(header "$f" revision)"
	assert_equal "$(count_tables "$db")" 0
}

@test "two heads are refused with exit 4, naming both heads and --merge, and nothing is written" {
	m=$(copy_migrations "$(fixture lint_heads)")
	run --separate-stderr mig-new -m "$m" --message "add d"
	assert_failure 4
	assert_output ""
	[[ $stderr == *"2 heads (bbbbbbbbbbbb, cccccccccccc)"* ]] || fail "heads not named: $stderr"
	[[ $stderr == *"mig-new --merge"* ]] || fail "no --merge advice: $stderr"
	assert_equal "$(file_count "$m")" 3
}

@test "--merge joins the heads, lints clean, applies, and the next file chains to it" {
	m=$(copy_migrations "$(fixture lint_heads)")
	run --separate-stderr mig-new -m "$m" --merge
	assert_success
	assert_equal "$stderr" ""
	f=$output
	[[ $f == "$m"/versions/*_merge_heads.sql ]] || fail "unexpected path: $f"
	merge=$(header "$f" revision)
	assert_equal "$(header "$f" down_revision)" "bbbbbbbbbbbb, cccccccccccc"
	assert_equal "$(header "$f" message)" "merge heads"
	assert_lint_clean "$m"
	db=$BATS_TEST_TMPDIR/merged.db
	mig-upgrade -q -d "$(sqlite_url "$db")" -m "$m"
	assert_equal "$(version_rows "$db")" "$merge"
	assert_equal "$(count_tables "$db")" 3
	run --separate-stderr mig-new -m "$m" --format json "after the merge"
	assert_success
	assert_equal "$(jq -r '.down_revision | join(",")' <<<"$output")" "$merge"
}

@test "--merge applies on PostgreSQL and leaves one version row" {
	require_pg
	url=$(pg_new_db)
	m=$(copy_migrations "$(fixture lint_heads)")
	mig-new -q -m "$m" --merge --message "join left and right"
	run --separate-stderr mig-upgrade -d "$url" -m "$m"
	assert_success
	assert_equal "$(version_rows "$url")" "$(header "$m"/versions/*_join_left_and_right.sql revision)"
	assert_equal "$(count_tables "$url")" 3
}

@test "--merge with a single head is a usage error and writes nothing" {
	m=$(copy_migrations)
	run --separate-stderr mig-new -m "$m" --merge
	assert_failure 2
	assert_output ""
	[[ $stderr == *"nothing to merge"* ]] || fail "$stderr"
	[[ $stderr == *"$BASELINE"* ]] || fail "the head is not named: $stderr"
	assert_equal "$(file_count "$m")" 1
}

# walkthrough URL VERIFY_URL: the "future migrations" steps of the README:
# a new file, its SQL, the CI check, then a deploy to a database at the baseline.
walkthrough() {
	local url=$1 verify_url=$2 m f id
	m=$(copy_migrations)
	f=$(mig-new -m "$m" --message "add feature flags")
	id=$(header "$f" revision)
	add_feature_flags "$f"
	# The SQL now written, the file's line in mig.sum is renewed (as after
	# "atlas migrate new", an edit needs "atlas migrate hash").
	run --separate-stderr mig-verify -m "$m" --lint-only
	assert_failure 1
	assert_line --partial "$f: error: changed since $m/mig.sum was written"
	run mig-verify --update-sum -m "$m"
	assert_success
	run --separate-stderr mig-verify -m "$m" -d "$verify_url" --expect-tables 24 --roundtrip
	assert_success
	assert_line --partial "round trip: 2 revisions"
	mig-upgrade -q -d "$url" -m "$m" --to "$BASELINE"
	run --separate-stderr mig-status --check -d "$url" -m "$m"
	assert_failure 1
	assert_line "pending:   $id  add feature flags"
	run --separate-stderr mig-upgrade -d "$url" -m "$m"
	assert_success
	assert_line --partial "applied $id  add feature flags"
	assert_equal "$(count_tables "$url")" 24
	assert_equal "$(version_rows "$url")" "$id"
	run --separate-stderr mig-status --check -q -d "$url" -m "$m"
	assert_success
	assert_output ""
}

@test "a new migration goes from mig-new through mig-verify to a deploy on SQLite" {
	db=$BATS_TEST_TMPDIR/deploy.db
	walkthrough "$(sqlite_url "$db")" "$(sqlite_url "$BATS_TEST_TMPDIR/verify.db")"
}

@test "a new migration goes from mig-new through mig-verify to a deploy on PostgreSQL" {
	require_pg
	url=$(pg_new_db)
	verify_url=$(pg_new_db)
	walkthrough "$url" "$verify_url"
}

@test "ids are 12 lowercase hex digits and unique across 200 calls, chained one after another" {
	m=$BATS_TEST_TMPDIR/many
	make_migrations "$m"
	for i in $(seq 200); do
		mig-new -q -m "$m" --message "step $i"
	done
	assert_equal "$(file_count "$m")" 200
	ids=$(for f in "$m"/versions/*.sql; do header "$f" revision; done)
	assert_equal "$(grep -cE '^[0-9a-f]{12}$' <<<"$ids")" 200
	assert_equal "$(sort -u <<<"$ids" | wc -l)" 200
	run --separate-stderr mig-verify --lint-only -m "$m"
	assert_success
	assert_line --partial "graph: 200 revisions"
	refute_output --partial "warning"
	# a chain: exactly one file has no parent
	assert_equal "$(grep -l '^-- down_revision: none$' "$m"/versions/*.sql | wc -l)" 1
}

# slug_of MESSAGE: the file name mig-new gives MESSAGE, without the id and "_".
slug_of() {
	local path
	path=$(mig-new -m "$BATS_TEST_TMPDIR/slugs" --format json --message "$1" | jq -r .path)
	path=${path##*/}
	echo "${path:12}"
}

@test "the slug is the lowercase message, runs of other characters as one _, at most 40" {
	make_migrations "$BATS_TEST_TMPDIR/slugs"
	assert_equal "$(slug_of "Add API keys table!")" "_add_api_keys_table.sql"
	assert_equal "$(slug_of "  --leading, trailing--  ")" "_leading_trailing.sql"
	assert_equal "$(slug_of "données: café")" "_donn_es_caf.sql"
	assert_equal "$(slug_of "rename users.email -> login")" "_rename_users_email_login.sql"
	# over 40: cut at the last word boundary
	assert_equal "$(slug_of "this message is much longer than forty characters in total")" \
		"_this_message_is_much_longer_than_forty.sql"
	# one long word is cut at 40
	assert_equal "$(slug_of "$(printf 'x%.0s' $(seq 50))")" "_$(printf 'x%.0s' $(seq 40)).sql"
	# no letter or digit: the file is just the id
	assert_equal "$(slug_of "???")" ".sql"
}

@test "the message is written on one line whatever it holds" {
	m=$(copy_migrations)
	run --separate-stderr mig-new -m "$m" --format json --message $'tabs\tand\nnew   lines'
	assert_success
	assert_equal "$(jq -r .message <<<"$output")" "tabs and new lines"
	f=$(jq -r .path <<<"$output")
	assert_equal "$(header "$f" message)" "tabs and new lines"
	[[ $f == *_tabs_and_new_lines.sql ]] || fail "$f"
	assert_lint_clean "$m"
}

@test "--format json gives the revision, the path and the down_revision list" {
	m=$(copy_migrations)
	run --separate-stderr mig-new -m "$m" --format json "add feature flags"
	assert_success
	assert_equal "$stderr" ""
	f=$(jq -r .path <<<"$output")
	assert [ -f "$f" ]
	assert_equal "$(jq -r .revision <<<"$output")" "$(header "$f" revision)"
	assert_equal "$(jq -c .down_revision <<<"$output")" "[\"$BASELINE\"]"
	m2=$BATS_TEST_TMPDIR/empty
	make_migrations "$m2"
	run --separate-stderr mig-new -m "$m2" --format json "first"
	assert_success
	assert_equal "$(jq -c .down_revision <<<"$output")" "[]"
}

@test "--branch-label is written to the header and a taken label is refused" {
	m=$(copy_migrations)
	run --separate-stderr mig-new -m "$m" --branch-label billing "start billing"
	assert_success
	f=$output
	assert_equal "$(header "$f" branch_labels)" "billing"
	assert_lint_clean "$m"
	db=$BATS_TEST_TMPDIR/label.db
	run --separate-stderr mig-upgrade -d "$(sqlite_url "$db")" -m "$m" --to billing
	assert_success
	assert_equal "$(version_rows "$db")" "$(header "$f" revision)"
	run --separate-stderr mig-new -m "$m" --branch-label billing "more billing"
	assert_failure 2
	assert_output ""
	[[ $stderr == *"'billing' is already used"* ]] || fail "$stderr"
	run --separate-stderr mig-new -m "$m" --branch-label "no spaces" "x"
	assert_failure 2
	assert_equal "$(file_count "$m")" 2
}

@test "a new file chains to the head of Alembic's own .py scripts" {
	m=$(copy_migrations "$(fixture alembic_py_classic)")
	run --separate-stderr mig-new -m "$m" "after alembic"
	assert_success
	assert_equal "$(header "$output" down_revision)" "d3a8b0c2e4fb"
}

@test "alembic's 'revision -m MSG' habit fails with exit 2 and points to --message" {
	cd "$BATS_TEST_TMPDIR"
	copy_migrations >/dev/null
	mv m migrations
	run --separate-stderr mig-new -m "add users table"
	assert_failure 2
	assert_output ""
	[[ $stderr == *"'add users table' is not a migrations folder"* ]] || fail "$stderr"
	[[ $stderr == *'mig-new --message "add users table"'* ]] || fail "$stderr"
	run --separate-stderr mig-new -m nosuchdir --message "add users table"
	assert_failure 2
	[[ $stderr == *"--message"* ]] || fail "$stderr"
	assert_equal "$(file_count migrations)" 1
	# the right way, in the same place
	run --separate-stderr mig-new --message "add users table"
	assert_success
	[[ $output == migrations/versions/*_add_users_table.sql ]] || fail "$output"
}

@test "a missing or doubled message is a usage error" {
	m=$(copy_migrations)
	run --separate-stderr mig-new -m "$m"
	assert_failure 2
	assert_output ""
	[[ $stderr == *"the message is missing"* ]] || fail "$stderr"
	run --separate-stderr mig-new -m "$m" --message "   "
	assert_failure 2
	[[ $stderr == *"the message is empty"* ]] || fail "$stderr"
	run --separate-stderr mig-new -m "$m" --message one two
	assert_failure 2
	[[ $stderr == *"one message only"* ]] || fail "$stderr"
	run --separate-stderr mig-new -m "$m" add users table
	assert_failure 2
	assert_equal "$(file_count "$m")" 1
}

@test "a broken graph is refused with exit 2, naming the file and line, and nothing is written" {
	m=$(copy_migrations "$(fixture lint_missing)")
	run --separate-stderr mig-new -m "$m" --message "on top"
	assert_failure 2
	assert_output ""
	[[ $stderr == *"cccccccccccc_orphan.sql:2: down_revision '0123456789ab'"* ]] || fail "$stderr"
	assert_equal "$(file_count "$m")" 2
}

@test "database flags are refused: mig-new uses no database" {
	m=$(copy_migrations)
	run --separate-stderr mig-new -m "$m" -d "sqlite:///x.db" --message "x"
	assert_failure 2
	assert_output ""
	[[ $stderr == *"--database-url: mig-new writes a file and uses no database"* ]] || fail "$stderr"
	assert_equal "$(file_count "$m")" 1
}

@test "-q writes the file and prints nothing; -v says what it chained to" {
	m=$(copy_migrations)
	run --separate-stderr mig-new -q -m "$m" "quiet one"
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
	assert_equal "$(file_count "$m")" 2
	run --separate-stderr mig-new -v -m "$m" "loud one"
	assert_success
	[[ $output == "$m"/versions/*_loud_one.sql ]] || fail "$output"
	[[ $stderr == *"mig-new: chained to "[0-9a-f]* ]] || fail "$stderr"
}

# --- alembic revision's --head, --splice, --rev-id, --depends-on --------------
# lint_heads: aaaaaaaaaaaa (base) with two children, bbbbbbbbbbbb and
# cccccccccccc, both heads.

@test "--head continues one of several heads, as alembic revision --head does" {
	m=$(copy_migrations "$(fixture lint_heads)")
	run --separate-stderr mig-new -m "$m" --head bbbbbbbbbbbb "continue left"
	assert_success
	assert_equal "$(header "$output" down_revision)" "bbbbbbbbbbbb"
	# a prefix and LABEL-free forms resolve as every revision argument does
	run --separate-stderr mig-new -m "$m" --head cccc "continue right"
	assert_success
	assert_equal "$(header "$output" down_revision)" "cccccccccccc"
}

# splice_applies URL: --head on a revision that is not a head is refused
# without --splice (exit 4, nothing written) and with it starts a third
# branch, which mig-upgrade --to heads applies beside the other two.
splice_applies() {
	m=$(copy_migrations "$(fixture lint_heads)")
	run --separate-stderr mig-new -m "$m" --head aaaaaaaaaaaa "third branch"
	assert_failure 4
	assert_output ""
	[[ $stderr == *"revision 'aaaaaaaaaaaa' is not a head"* ]] || fail "$stderr"
	[[ $stderr == *"--splice"* ]] || fail "no --splice advice: $stderr"
	assert_equal "$(file_count "$m")" 3
	run --separate-stderr mig-new -m "$m" --head aaaaaaaaaaaa --splice "third branch"
	assert_success
	f=$output
	assert_equal "$(header "$f" down_revision)" "aaaaaaaaaaaa"
	sed -i 's/^-- +downgrade$/CREATE TABLE third (id INTEGER PRIMARY KEY);\n\n&/' "$f"
	printf 'DROP TABLE third;\n' >>"$f"
	third=$(header "$f" revision)
	run mig-upgrade -d "$1" -m "$m" --to heads
	assert_success
	assert_equal "$(version_rows "$1")" "$(printf '%s\n' bbbbbbbbbbbb cccccccccccc "$third" | sort | xargs)"
	assert_equal "$(count_tables "$1")" 4
}

@test "--head on a revision that is not a head needs --splice; the new branch applies on SQLite" {
	splice_applies "$(sqlite_url "$BATS_TEST_TMPDIR/splice.db")"
}

@test "--head on a revision that is not a head needs --splice; the new branch applies on PostgreSQL" {
	require_pg
	splice_applies "$(pg_new_db)"
}

@test "--head base starts a new base, which lints as a second base and applies" {
	m=$(copy_migrations)
	run --separate-stderr mig-new -m "$m" --head base "audit schema"
	assert_success
	f=$output
	assert_equal "$(header "$f" down_revision)" "none"
	run --separate-stderr mig-verify --lint-only -m "$m" --format json
	assert_equal "$(jq -r '[.findings[].code] | join(",")' <<<"$output")" "multiple-bases,multiple-heads"
	db=$BATS_TEST_TMPDIR/bases.db
	run mig-upgrade -d "$(sqlite_url "$db")" -m "$m" --to heads
	assert_success
	assert_equal "$(version_rows "$db")" "$(printf '%s\n' "$BASELINE" "$(header "$f" revision)" | sort | xargs)"
}

@test "--rev-id names the revision and the file; bad, reserved and taken ids are refused" {
	m=$(copy_migrations)
	run --separate-stderr mig-new -m "$m" --rev-id release_2024_07 --format json "july release"
	assert_success
	assert_equal "$(jq -r '.revision, .path' <<<"$output")" "release_2024_07
$m/versions/release_2024_07_july_release.sql"
	assert_equal "$(header "$m/versions/release_2024_07_july_release.sql" revision)" release_2024_07
	assert_lint_clean "$m"
	for bad in "a-b" "two words" "head" "$BASELINE" release_2024_07 "$(printf 'x%.0s' {1..33})"; do
		run --separate-stderr mig-new -m "$m" --rev-id "$bad" "again"
		assert_failure 2
		[[ $stderr == *"--rev-id: '$bad'"* ]] || fail "$bad: $stderr"
	done
	assert_equal "$(file_count "$m")" 2
}

@test "--depends-on writes full ids (labels stay labels), refuses what names nothing, and orders the upgrade" {
	m=$(copy_migrations "$(fixture lint_heads)")
	mig-new -q -m "$m" --head cccccccccccc --branch-label right "label right"
	run --separate-stderr mig-new -m "$m" --head bbbbbbbbbbbb --depends-on cccc --depends-on right "needs right"
	assert_success
	f=$output
	assert_equal "$(header "$f" depends_on)" "cccccccccccc, right"
	run --separate-stderr mig-verify --lint-only -m "$m" --allow-multiple-heads
	assert_success
	# upgrading to it runs its dependencies first: the right branch and
	# its labelled tip, then the left parent, then it
	run --separate-stderr mig-upgrade --sql --dialect sqlite -m "$m" --to "$(header "$f" revision)"
	assert_success
	run grep -o '^-- Running upgrade [^ ]*' <<<"$output"
	assert_output "$(printf -- '-- Running upgrade %s\n' aaaaaaaaaaaa cccccccccccc \
		"$(header "$m"/versions/*_label_right.sql revision)" bbbbbbbbbbbb "$(header "$f" revision)")"
	for bad in nosuch heads; do
		run --separate-stderr mig-new -m "$m" --head "$(header "$f" revision)" --depends-on "$bad" "x"
		assert_failure 2
		[[ $stderr == *"--depends-on: "* ]] || fail "$bad: $stderr"
	done
}

@test "--splice without --head and --head with --merge are usage errors" {
	m=$(copy_migrations "$(fixture lint_heads)")
	run mig-new -m "$m" --splice "x"
	assert_failure 2
	assert_line --index 0 "mig-new: --splice goes with --head"
	run mig-new -m "$m" --merge --head bbbbbbbbbbbb
	assert_failure 2
	assert_equal "$(file_count "$m")" 3
}
