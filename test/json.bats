#!/usr/bin/env bats
# The JSON contract (DESIGN.md "JSON"): with --format json every program
# writes exactly one document to stdout, also when it fails, with the exit
# status of text mode, "format": 1 and, on failure, an "error" object. Every
# document here is also checked against schemas/ by common.bash.

load test_helper/common

# fails_alike CODE KIND PROGRAM ARGS...: the command fails with CODE in text
# mode, and with --format json (first, so a usage mistake after it is
# still in JSON) fails with the same CODE and one error document
# of that code and KIND (the schema check runs in the wrapper).
fails_alike() {
	local code=$1 kind=$2
	shift 2
	run --separate-stderr "$@"
	assert_failure "$code"
	[[ -n $stderr ]]
	local text_stdout=$output
	run --separate-stderr "$1" --format json "${@:2}"
	assert_failure "$code"
	[[ $text_stdout != *'"format"'* ]]
	# one line, one document
	[[ $(printf '%s\n' "$output" | wc -l) -eq 1 ]]
	[[ $(jq -r '[.ok, .format, .error.code, .error.kind] | @tsv' <<<"$output") == \
		"false	1	$code	$kind" ]]
	[[ -n $(jq -r .error.message <<<"$output") ]]
}

@test "ten and more different failures each give one error document with the text-mode exit code" {
	cd "$BATS_TEST_TMPDIR"
	unset DATABASE_URL
	db=$(sqlite_url "$BATS_TEST_TMPDIR/app.db")
	# usage: an unknown flag, a flag without its value, a missing --to, neither --spec nor --dump
	fails_alike 2 usage mig-upgrade -m "$REPO/migrations" -d "$db" --bogus
	fails_alike 2 usage mig-status -m "$REPO/migrations" -d "$db" --wait
	fails_alike 2 usage mig-downgrade -m "$REPO/migrations" -d "$db"
	fails_alike 2 usage mig-check-schema -d "$db"
	# input: a bad number, no database at all, a spec that does not exist, a broken migration file
	fails_alike 2 input mig-status -m "$REPO/migrations" -d "$db" --wait soon
	fails_alike 2 input mig-status -m "$REPO/migrations"
	fails_alike 2 input mig-check-schema -d "$db" --spec "$BATS_TEST_TMPDIR/none.yaml"
	fails_alike 2 input mig-upgrade -m "$(fixture bad_garbage)" -d "$db"
	# database: a file that is not there, SQL that fails
	fails_alike 3 database mig-status -m "$REPO/migrations" -d "sqlite:///$BATS_TEST_TMPDIR/missing.db"
	fails_alike 3 database mig-upgrade -m "$(fixture badsql)" -d "$db"
	[[ $(sqlite_tables "$BATS_TEST_TMPDIR/app.db") != *second_table* ]]
	# safety: a revision that does not exist, a stamp over another revision,
	# legacy tables without a version table, verify into a non-empty database
	fails_alike 4 safety mig-stamp -m "$REPO/migrations" -d "$db" nosuchrev
	legacy=$BATS_TEST_TMPDIR/legacy.db
	make_legacy_db "$legacy"
	fails_alike 4 safety mig-upgrade -m "$REPO/migrations" -d "$(sqlite_url "$legacy")"
	fails_alike 4 safety mig-verify -m "$REPO/migrations" -d "$(sqlite_url "$legacy")"
	[[ $(version_rows "$legacy") == "" ]]
}

@test "a failed connection to PostgreSQL is one error document, password masked, exit 3" {
	run --separate-stderr mig-upgrade -m "$REPO/migrations" --format json \
		-d "postgresql://mig:s3cretpw@127.0.0.1:1/x"
	assert_failure 3
	[[ $(jq -r .error.kind <<<"$output") == database ]]
	[[ $(jq -r .error.message <<<"$output") == *"cannot connect"* ]]
	[[ $output != *s3cretpw* && $stderr != *s3cretpw* ]]
}

@test "a failing migration on PostgreSQL is an error document naming file and line, and is rolled back" {
	require_pg
	url=$(pg_new_db)
	run --separate-stderr mig-upgrade -m "$(fixture badsql)" -d "$url" --format json
	assert_failure 3
	[[ $(jq -r .error.kind <<<"$output") == database ]]
	[[ $(jq -r .error.message <<<"$output") == *b2b2b2b2b2b2_second.sql:9:* ]]
	[[ $(version_rows "$url") == a1a1a1a1a1a1 ]]
	[[ $(pg_tables "$url") != *second_table* ]]
}

@test "refusals on PostgreSQL are error documents with exit 4: stamp over another revision, legacy upgrade" {
	require_pg
	url=$(pg_new_db)
	mig-upgrade -q -m "$(fixture badsql)" -d "$url" --to a1a1a1a1a1a1
	fails_alike 4 safety mig-stamp -m "$(fixture badsql)" -d "$url" b2b2b2b2b2b2
	[[ $(version_rows "$url") == a1a1a1a1a1a1 ]]
	legacy=$(pg_new_db)
	make_legacy_db "$legacy"
	fails_alike 4 safety mig-upgrade -m "$REPO/migrations" -d "$legacy"
	[[ $(version_rows "$legacy") == "" ]]
}

@test "mig-status --format json | jq -r .state fails with the pipeline when the database is down" {
	run bash -c "set -o pipefail; mig-status -m '$REPO/migrations' --format json \
		-d 'sqlite:///$BATS_TEST_TMPDIR/missing.db' 2>/dev/null | jq -er .error.kind"
	assert_failure 3
	assert_output database
}

@test "every document carries ok and format 1, on SQLite and PostgreSQL" {
	cd "$BATS_TEST_TMPDIR"
	cp -r "$REPO/migrations" m
	urls=("$(sqlite_url "$BATS_TEST_TMPDIR/a.db")")
	[[ -z ${MIG_PG_PORT:-} ]] || urls+=("$(pg_new_db)")
	for url in "${urls[@]}"; do
		for cmd in "mig-upgrade -m m" "mig-status -m m" "mig-status -m m --history-log" \
			"mig-check-schema --dump" "mig-stamp -m m head" "mig-downgrade -m m --to base"; do
			# shellcheck disable=SC2086 # cmd holds words
			run --separate-stderr $cmd -d "$url" --format json
			assert_success
			[[ $(jq -r '[.ok, .format] | @tsv' <<<"$output") == "true	1" ]]
		done
	done
	run --separate-stderr mig-verify -m m --format json
	assert_success
	[[ $(jq -r '[.ok, .format] | @tsv' <<<"$output") == "true	1" ]]
	run --separate-stderr mig-new -m m --format json --message "add a thing"
	assert_success
	[[ $(jq -r '[.ok, .format, (.path | test("add_a_thing"))] | @tsv' <<<"$output") == "true	1	true" ]]
}

@test "mig-check-schema --dump --format json is the YAML dump's model, as JSON, on SQLite and PostgreSQL" {
	urls=("$(sqlite_url "$BATS_TEST_TMPDIR/a.db")")
	[[ -z ${MIG_PG_PORT:-} ]] || urls+=("$(pg_new_db)")
	for url in "${urls[@]}"; do
		mig-upgrade -q -m "$REPO/migrations" -d "$url"
		mig-check-schema --dump -d "$url" >"$BATS_TEST_TMPDIR/dump.yaml"
		run --separate-stderr mig-check-schema --dump --format json -d "$url"
		assert_success
		printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/dump.json"
		# the same tables, columns, keys and indexes; JSON spells out empty
		# lists and unique: false, which YAML leaves out
		run /usr/bin/python3 - "$BATS_TEST_TMPDIR/dump.yaml" "$BATS_TEST_TMPDIR/dump.json" <<-'PY'
			import json, sys, yaml
			y = yaml.safe_load(open(sys.argv[1]))
			j = json.load(open(sys.argv[2]))
			def prune(v):
			    if isinstance(v, dict):
			        return {k: prune(x) for k, x in v.items()
			                if x not in ([], {}) and not (k == "unique" and x is False)}
			    if isinstance(v, list):
			        return [prune(x) for x in v]
			    return v
			def strs(v):
			    if isinstance(v, dict):
			        return {k: strs(x) for k, x in v.items()}
			    if isinstance(v, list):
			        return [strs(x) for x in v]
			    return str(v).lower() if isinstance(v, bool) else str(v)
			a, b = strs(prune(y["tables"])), strs(prune(j["tables"]))
			assert len(a) == 23, len(a)
			assert a == b, (a, b)
			print("same", len(a))
		PY
		assert_success
		assert_output "same 23"
	done
}

@test "the validator fails a document that breaks the schema (so the wrapper can fail)" {
	printf '%s\n' '{"ok":true,"format":1,"state":"sideways"}' >"$BATS_TEST_TMPDIR/bad.json"
	run /usr/bin/python3 "$REPO/test/test_helper/validate-json.py" mig-status "$BATS_TEST_TMPDIR/bad.json"
	assert_failure 1
	printf '%s\n%s\n' '{"ok":true,"format":1}' '{"ok":true,"format":1}' >"$BATS_TEST_TMPDIR/two.json"
	run /usr/bin/python3 "$REPO/test/test_helper/validate-json.py" mig-verify "$BATS_TEST_TMPDIR/two.json"
	assert_failure 1
	printf '%s\n' '{"ok":false,"format":2,"error":{"code":3,"kind":"database","message":"x","hint":null}}' \
		>"$BATS_TEST_TMPDIR/v2.json"
	run /usr/bin/python3 "$REPO/test/test_helper/validate-json.py" mig-upgrade "$BATS_TEST_TMPDIR/v2.json"
	assert_failure 1
}
