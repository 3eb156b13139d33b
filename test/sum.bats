#!/usr/bin/env bats
# sum.bats: migrations/mig.sum, the SHA-256 of every migration file, checked
# offline by mig-verify, kept by mig-new and rewritten by mig-verify
# --update-sum.  Each test edits a copy of a folder the way a person would
# and checks what mig-verify says and exits with.

load test_helper/common
use_sanitizer_build

BASELINE=b07a366647c3

setup() {
	m=$BATS_TEST_TMPDIR/m
	mkdir -p "$m/versions"
	cp "$REPO"/migrations/versions/*.sql "$(fixture after_baseline)"/versions/*.sql "$m/versions/"
	run mig-verify --update-sum -m "$m"
	assert_success
	base_file=$(echo "$m"/versions/${BASELINE}_*.sql)
}

# lint: the sum check alone (it is offline; --lint-only still makes it).
lint() {
	run --separate-stderr mig-verify --lint-only -m "$m" "$@"
}

@test "the repository's own migrations/mig.sum is committed and matches the files" {
	run git -C "$REPO" ls-files --error-unmatch migrations/mig.sum
	assert_success
	run --separate-stderr mig-verify --lint-only --require-sum -m "$REPO/migrations"
	assert_success
	refute_output --partial "mig.sum"
	assert_equal "$stderr" ""
}

@test "mig.sum holds one line per file with the SHA-256 sha256sum computes, and a sum of its own lines" {
	assert_equal "$(head -c 10 "$m/mig.sum")" "mig-sum 1 "
	assert_equal "$(sed 1d "$m/mig.sum" | wc -l)" "$(ls "$m"/versions/*.sql | wc -l)"
	for f in "$m"/versions/*.sql; do
		want=$(sha256sum "$f" | cut -d' ' -f1)
		assert_equal "$(grep "^versions/$(basename "$f") " "$m/mig.sum" | cut -d' ' -f2)" "$want"
	done
	assert_equal "$(head -1 "$m/mig.sum" | cut -d' ' -f3)" "$(sed 1d "$m/mig.sum" | sha256sum | cut -d' ' -f1)"
	lint
	assert_success
}

@test "a column added to the applied baseline fails mig-verify (exit 1) with the advice to write a new migration" {
	sed -i 's/^CREATE TABLE agents (/CREATE TABLE agents (\n    nickname VARCHAR(40),/' "$base_file"
	grep -q nickname "$base_file"
	lint
	assert_failure 1
	assert_output --partial "$base_file: error: changed since $m/mig.sum was written: its code changed, not only comments or white space"
	assert_output --partial "write a new migration (mig-new)"
	assert_output --partial "verify: FAILED, 1 error"
	# The full job fails the same way (the migrations still apply).
	run --separate-stderr mig-verify -m "$m"
	assert_failure 1
	assert_output --partial "its code changed"
}

@test "a comment or white-space edit fails too, and the hint says it is only that and how to accept it" {
	printf -- '-- reviewed in 2026\n' >>"$base_file"
	sed -i 's/^CREATE TABLE agents (/CREATE   TABLE\tagents (/' "$base_file"
	lint
	assert_failure 1
	assert_output --partial "changed since $m/mig.sum was written: only comments or white space"
	assert_output --partial "accept the edit with mig-verify --update-sum"
	run mig-verify --update-sum -m "$m"
	assert_success
	assert_output "$m/mig.sum: written ($(ls "$m"/versions/*.sql | wc -l) files)"
	lint
	assert_success
}

@test "white space inside a string literal, a '--' inside a string and a header line are code, not comments" {
	f=$m/versions/s1_strings.sql
	printf -- '-- revision: s1\n-- down_revision: e173b895ecb0\n\n-- +upgrade\nINSERT INTO agents (id) VALUES (%s);\n' "'a b'" >"$f"
	run mig-verify --update-sum -m "$m"
	assert_success
	sed -i "s/'a b'/'a  b'/" "$f"
	lint
	assert_failure 1
	assert_output --partial "its code changed"
	sed -i "s/'a  b'/'a -- b'/" "$f"
	lint
	assert_output --partial "its code changed"
	sed -i "s/'a -- b'/'a b'/" "$f"
	lint
	assert_success
	# The header is comments to SQL, but mig reads it: not a comment edit.
	sed -i 's/^-- down_revision: e173b895ecb0/-- down_revision: b07a366647c3/' "$f"
	run --separate-stderr mig-verify --lint-only --allow-multiple-heads -m "$m"
	assert_failure 1
	assert_output --partial "$f: error: changed since $m/mig.sum was written: its code changed"
}

@test "a migration file missing from mig.sum is an error naming the file" {
	cp "$base_file" "$m/versions/c0ffee000001_copy.sql"
	sed -i 's/^-- revision: .*/-- revision: c0ffee000001/; s/^-- down_revision: .*/-- down_revision: e173b895ecb0/' \
		"$m/versions/c0ffee000001_copy.sql"
	lint
	assert_failure 1
	assert_output --partial "$m/versions/c0ffee000001_copy.sql: error: not in $m/mig.sum"
	assert_output --partial "mig-new adds the files it writes to mig.sum"
}

@test "a sum line for a removed migration is an error naming the line and the file" {
	rm "$m"/versions/e173b895ecb0_*.sql
	lint
	assert_failure 1
	assert_output --regexp "$m/mig.sum:[0-9]+: error: versions/e173b895ecb0_[a-z_]+\.sql is in mig.sum but not in $m/versions"
	assert_output --partial "restore it"
}

@test "a folder without mig.sum is not checked, unless --require-sum: then that is the error" {
	rm "$m/mig.sum"
	lint
	assert_success
	refute_output --partial "mig.sum"
	lint --require-sum
	assert_failure 1
	assert_output --partial "$m/mig.sum: error: no mig.sum: edits of applied migrations would go unnoticed"
	assert_output --partial "mig-verify --update-sum writes it"
	run mig-verify --update-sum --require-sum -m "$m"
	assert_failure 2
}

@test "mig-new adds its file to mig.sum and keeps the other lines, so it never hides an edit of an old file" {
	run mig-new -m "$m" --message "add a column"
	assert_success
	new=$output
	assert_equal "$(grep -c "^versions/$(basename "$new") " "$m/mig.sum")" 1
	lint
	assert_success
	# An edit of the baseline, then a new migration: the edit is still caught.
	printf 'CREATE TABLE sneaky (id INTEGER);\n' >>"$base_file"
	run mig-new -m "$m" --message "another"
	assert_success
	lint
	assert_failure 1
	assert_output --partial "$base_file: error: changed since"
	assert_equal "$(grep -c ': error:' <<<"$output")" 1
}

@test "mig-new in a folder without mig.sum writes the first one" {
	rm "$m/mig.sum"
	run mig-new -m "$m" --message "first with a sum"
	assert_success
	lint --require-sum
	assert_success
	assert_equal "$(sed 1d "$m/mig.sum" | wc -l)" 3
}

@test "--update-sum says when nothing changed, and writes JSON with --format json" {
	run mig-verify --update-sum -m "$m"
	assert_success
	assert_output "$m/mig.sum: up to date (2 files)"
	echo "-- x" >>"$base_file"
	run --separate-stderr mig-verify --update-sum -m "$m" --format json
	assert_success
	assert_equal "$(jq -c '{ok, files, changed}' <<<"$output")" '{"ok":true,"files":2,"changed":true}'
	lint
	assert_success
}

@test "a hand-edited mig.sum fails: its own sum no longer matches" {
	sed -i '2s/ [0-9a-f]\{64\} / 0000000000000000000000000000000000000000000000000000000000000000 /' "$m/mig.sum"
	lint
	assert_failure 1
	assert_output --partial "$m/mig.sum:1: error: mig.sum does not match its own sum"
}

@test "two branches that each add a migration conflict on mig.sum in git, and the hint explains it" {
	command -v git >/dev/null || skip "no git"
	cd "$BATS_TEST_TMPDIR"
	git init -q repo
	cp -r "$m" repo/m
	cd repo
	git -c user.name=t -c user.email=t@t add -A
	git -c user.name=t -c user.email=t@t commit -qm base
	git checkout -qb one
	mig-new -m m --message "from branch one" >/dev/null
	git -c user.name=t -c user.email=t@t add -A
	git -c user.name=t -c user.email=t@t commit -qm one
	git checkout -q -
	mig-new -m m --message "from branch two" >/dev/null
	git -c user.name=t -c user.email=t@t add -A
	git -c user.name=t -c user.email=t@t commit -qm two
	run git -c user.name=t -c user.email=t@t merge one
	assert_failure
	assert_output --partial "CONFLICT (content): Merge conflict in m/mig.sum"
	run --separate-stderr mig-verify --lint-only -m m
	assert_failure 1
	assert_output --partial "m/mig.sum:1: error: git conflict markers"
	assert_output --partial "mig.sum conflicts in git when two branches each add a migration, on purpose"
	# Keeping every line and either first line by hand does not pass either.
	grep -v '^[<=>|]\{7\}' m/mig.sum >m/lines
	{ grep '^mig-sum' m/lines | head -1; grep -v '^mig-sum' m/lines | sort -u; } >m/mig.sum
	run --separate-stderr mig-verify --lint-only -m m
	assert_failure 1
	assert_output --partial "error: mig.sum does not match its own sum"
	assert_output --partial "error: 2 heads"
}

@test "Alembic .py scripts are summed too: an edited one fails" {
	cp -r "$(fixture alembic_py_classic)" "$BATS_TEST_TMPDIR/py"
	m=$BATS_TEST_TMPDIR/py
	run mig-verify --update-sum -m "$m"
	assert_success
	py=$(ls "$m"/versions/*.py | head -1)
	grep -q "^versions/$(basename "$py") " "$m/mig.sum"
	echo "    op.execute('SELECT 1')" >>"$py"
	lint
	assert_failure 1
	assert_output --partial "$py: error: changed since $m/mig.sum was written: its code changed"
	git -C "$REPO" show HEAD:"test/fixtures/alembic_py_classic/versions/$(basename "$py")" >"$py" 2>/dev/null ||
		cp "$(fixture alembic_py_classic)/versions/$(basename "$py")" "$py"
	printf '\n# a note\n' >>"$py"
	lint
	assert_failure 1
	assert_output --partial "only comments or white space"
}

@test "mig-verify --format json lists the sum findings with their code" {
	echo "SELECT 1;" >>"$base_file"
	run --separate-stderr mig-verify --lint-only -m "$m" --format json
	assert_failure 1
	assert_equal "$(jq -r '.findings[] | select(.code == "sum-changed") | .file' <<<"$output")" "$base_file"
	assert_equal "$(jq -r .ok <<<"$output")" false
}

@test "mig-new refuses (exit 2) to write a migration while mig.sum cannot be trusted, and writes nothing" {
	sed -i '2s/ [0-9a-f]\{64\} / 0000000000000000000000000000000000000000000000000000000000000000 /' "$m/mig.sum"
	cp "$m/mig.sum" "$BATS_TEST_TMPDIR/sum.before"
	ls "$m/versions" >"$BATS_TEST_TMPDIR/files.before"
	run --separate-stderr mig-new -m "$m" --message "more"
	assert_failure 2
	[[ $stderr == *"$m/mig.sum: mig.sum does not match its own sum"* ]] || fail "$stderr"
	[[ $stderr == *"then run mig-verify --update-sum"* ]] || fail "$stderr"
	assert_equal "$(ls "$m/versions")" "$(cat "$BATS_TEST_TMPDIR/files.before")"
	cmp "$m/mig.sum" "$BATS_TEST_TMPDIR/sum.before"
}

@test "a block comment that holds a section marker, and a '--' inside a SQLite quoted name, are code, not comments" {
	f=$m/versions/s2_quoted.sql
	printf -- '-- revision: s2\n-- down_revision: e173b895ecb0\n\n-- +upgrade\nCREATE TABLE [x--y] (id INTEGER);\nCREATE TABLE z (id INTEGER);\n' >"$f"
	run mig-verify --update-sum -m "$m"
	assert_success
	# what follows "--" inside [ ] is part of the name, so this renames the table
	sed -i 's/\[x--y\]/[x--w]/' "$f"
	lint
	assert_failure 1
	assert_output --partial "its code changed"
	refute_output --partial "was written: only comments or white space"
	sed -i 's/\[x--w\]/[x--y]/' "$f"
	lint
	assert_success
	# mig reads a marker line even inside /* */: z moves to the downgrade
	sed -i 's/^CREATE TABLE z/\/*\n-- +downgrade\n*\/\nCREATE TABLE z/' "$f"
	lint
	assert_failure 1
	assert_output --partial "its code changed"
	refute_output --partial "was written: only comments or white space"
}
